"Edge cases of `audiotag2019.train` that read badly as documentation: overwriting, a crash mid-epoch, noisy lists from csv."
import json, warnings
import numpy as np, pandas as pd, pytest
warnings.filterwarnings('ignore')
from fastai.callback.core import Callback
from audiotag2019.demo import demo_dataset
from audiotag2019.config import TrainConfig
from audiotag2019.learner import open_data
from audiotag2019.train import train
from audiotag2019.cli import train_cli
from audiotag2019.inference import load_run, load_model

TINY = TrainConfig.cpu_demo(size=64, bs=16, epochs=2, n_batches=2)

@pytest.fixture(scope='module')
def data(tmp_path_factory):
    return open_data(demo_dataset('tiny'), specs=tmp_path_factory.mktemp('specs'))

class Crash(Callback):
    "A crash (not a clean cancel) in the middle of the second epoch."
    def after_batch(self):
        if self.epoch == 1 and self.training: raise KeyboardInterrupt

def test_crash_mid_epoch_then_resume(data, tmp_path):
    with pytest.raises(KeyboardInterrupt): train(TINY, data, tmp_path/'r', progress=False, cbs=[Crash()])
    st = json.loads((tmp_path/'r'/'state.json').read_text())
    assert st['epochs_done'] == 1 and not st['finished']
    assert not list((tmp_path/'r'/'models').glob('*.tmp'))
    r = train(TINY, data, tmp_path/'r', progress=False, resume=True)
    assert r.finished and list(r.history.epoch) == [0, 1]

def test_overwrite_starts_over(data, tmp_path):
    train(TINY, data, tmp_path/'r', progress=False)
    r = train(TINY.replace(loss='focal'), data, tmp_path/'r', progress=False, overwrite=True)
    assert load_run(tmp_path/'r')[0].loss == 'focal' and len(r.history) == 2

def test_resume_without_checkpoint_is_a_fresh_start(data, tmp_path):
    r = train(TINY, data, tmp_path/'r', progress=False, resume=True)
    assert r.finished

def test_noisy_from_csv(data, tmp_path):
    ds = data[0]
    ds.noisy.head(3).assign(labels=ds.noisy.labels.head(3).map(','.join)).to_csv(tmp_path/'kept.csv', index=False)
    r = train(TINY.replace(noisy_fnames=str(tmp_path/'kept.csv'), epochs=1), data, tmp_path/'r', progress=False)
    assert json.loads((tmp_path/'r'/'config.json').read_text())['meta']['n_train'] == len(r.learn.dls.train_fnames)
    assert set(ds.noisy.fname.head(3)) <= set(r.learn.dls.train_fnames)

def test_cli_fold_all_and_last_checkpoint(data, tmp_path):
    ds = data[0]
    train_cli(str(ds.root), str(tmp_path/'r'), specs=str(data[1]['train_curated'].path.parent), preset='cpu_demo',
              size=64, bs=16, epochs=1, n_batches=2, fold='all', quiet=True)
    cfg, meta = load_run(tmp_path/'r')
    assert cfg.fold is None and meta['n_train'] == len(ds.curated)
    m, _, _ = load_model(tmp_path/'r', 'last')
    assert not m.training

def test_read_only_specs_folder_is_named(monkeypatch, tmp_path):
    "Stores that cannot be written (read-only Kaggle input) give an error that names the folder and the way out."
    import errno
    import audiotag2019.learner as tr
    from audiotag2019.core import DataError
    def read_only(ds, out, **kw): raise OSError(errno.EROFS, 'Read-only file system', str(out))
    monkeypatch.setattr(tr, 'build_dataset_stores', read_only)
    with pytest.raises(DataError, match=r'cannot write the spectrogram stores there \(Read-only file system\); pass a writable folder'):
        open_data(demo_dataset('tiny'), specs=tmp_path/'ro')
    def other(ds, out, **kw): raise OSError(errno.ENOSPC, 'No space left on device')
    monkeypatch.setattr(tr, 'build_dataset_stores', other)
    with pytest.raises(OSError, match='No space left'): open_data(demo_dataset('tiny'), specs=tmp_path/'full')

def test_classes_without_a_curated_clip_are_named_before_training(tmp_path, capsys):
    src = demo_dataset('tiny')
    root = tmp_path/'one_class'; root.mkdir()
    for f in ('sample_submission.csv', 'test', 'train_curated'): (root/f).symlink_to(src/f)
    cur = pd.read_csv(src/'train_curated.csv')
    top = cur.labels.str.split(',').explode().value_counts().index[0]
    cur[cur.labels.str.split(',').map(lambda l: top in l)].assign(labels=top).to_csv(root/'train_curated.csv', index=False)  # one class only
    n = len(pd.read_csv(src/'sample_submission.csv', nrows=0).columns) - 1
    train(TINY.replace(n_folds=2), root, tmp_path/'r', progress='lines', specs=tmp_path/'specs', plots=False)
    out = capsys.readouterr().out
    assert f'note: {n - 1} of {n} classes have no curated clip (' in out and top not in out.split('note:')[1].split(')')[0], out
