"The `train` command with `--relabel` and `--noisy_loss lsoft`: what reaches the saved config and the loaders."
import json, warnings
import pandas as pd, pytest
warnings.filterwarnings('ignore')
from audiotag2019.core import load_dataset
from audiotag2019.demo import demo_dataset
from audiotag2019.cli import train_cli

@pytest.fixture(scope='module')
def root(): return demo_dataset('tiny')

def _cli(root, out, specs, **kw):
    return train_cli(str(root), str(out), specs=str(specs), preset='cpu_demo', size=64, bs=8, epochs=1, n_batches=2, fold='all',
                     quiet=True, **kw)

def test_relabel_drops_and_changes(root, tmp_path):
    ds = load_dataset(root)
    f_drop, f_change = ds.curated.fname[0], ds.curated.fname[1]
    new = [c for c in ds.vocab if c not in ds.curated.labels[1]][0]
    ov = tmp_path/'overrides.csv'
    pd.DataFrame(dict(fname=[f_drop, f_change], action=['drop', 'change'], labels=['', new])).to_csv(ov, index=False)
    r = _cli(root, tmp_path/'run', tmp_path/'specs', relabel=str(ov))
    cfg = json.loads((tmp_path/'run'/'config.json').read_text())
    assert cfg['config']['relabel'] == str(ov)
    assert cfg['meta']['n_train'] == len(ds.curated) - 1
    dls = r.learn.dls
    assert f_drop not in dls.train_fnames and f_change in dls.train_fnames
    i = dls.train.dataset.specs.fnames.index(f_change)
    y = dls.train.dataset[4 * i][1][:len(ds.vocab)]
    assert [ds.vocab[j] for j in y.nonzero().flatten().tolist()] == [new]
    assert load_dataset(root).curated.fname.tolist() == ds.curated.fname.tolist()  # the csv on disk is untouched

def test_lsoft_flag_reaches_training(root, tmp_path):
    ds = load_dataset(root)
    noisy = tmp_path/'noisy.csv'
    ds.noisy[['fname']].to_csv(noisy, index=False)
    r = _cli(root, tmp_path/'run', tmp_path/'specs', noisy=str(noisy), noisy_loss='lsoft', noisy_beta=0.5)
    cfg = json.loads((tmp_path/'run'/'config.json').read_text())['config']
    assert (cfg['noisy_loss'], cfg['noisy_beta']) == ('lsoft', 0.5)
    assert int(r.learn.dls.train.dataset.noisy.sum()) == len(ds.noisy)
    assert any(type(c).__name__ == 'SoftBootstrap' and c.beta == 0.5 for c in r.learn.cbs)
    assert r.finished
