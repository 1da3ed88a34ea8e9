"A run trained with band normalisation and dropout from the command line saves them, and `predict` rebuilds the same network."
import contextlib, io, json, shutil
import numpy as np, pandas as pd
from audiotag2019.demo import demo_dataset
from audiotag2019.cli import run_command
from audiotag2019.inference import load_model

def test_train_band_norm_dropout_then_predict(tmp_path):
    root = tmp_path/'root'; shutil.copytree(demo_dataset('tiny'), root)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        run_command(['train', str(root), str(tmp_path/'run'), '--preset', 'cpu_demo', '--epochs', '1', '--n_batches', '2',
                     '--band_norm', 'true', '--dropout', '0.2', '--quiet'])
    cfg = json.loads((tmp_path/'run'/'config.json').read_text())['config']
    assert (cfg['band_norm'], cfg['dropout']) == (True, 0.2)
    m, _, _ = load_model(tmp_path/'run')  # weights-only load into the rebuilt network: every key must match
    assert type(m[0]).__name__ == 'BandNorm'
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):  # `predict` as a user types it
        run_command(['predict', str(tmp_path/'run'), str(root), '--out', str(tmp_path/'preds.csv'), '--quiet'])
    tab = pd.read_csv(tmp_path/'preds.csv')
    p = tab.drop(columns='fname').to_numpy()
    assert len(tab) == len(list((root/'test').iterdir())) and np.isfinite(p).all() and ((p >= 0) & (p <= 1)).all()
