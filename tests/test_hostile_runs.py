"""A run folder is one run: one `train` writes it at a time (a second one is refused, naming the folder and the
holder's pid), `resume` continues only what can be continued (not a run whose config.json, state.json or last.pth is
gone, nor one trained on another class list), prediction from an unfinished run says so, a store damaged on disk is
rebuilt before training, and `predict_folder` keeps to the test folder."""
import dataclasses, json, os, re, shutil, subprocess, sys, textwrap, time, warnings
from pathlib import Path
import numpy as np
import pandas as pd
import pytest
warnings.filterwarnings('ignore', message='.*torch.jit.script.*')
from fastai.callback.core import Callback, CancelFitException
from audiotag2019.core import DataError
from audiotag2019.demo import demo_dataset
from audiotag2019.config import TrainConfig
from audiotag2019.learner import open_data
from audiotag2019.store import SpecStore
from audiotag2019.train import train
from audiotag2019.inference import load_model, predict_folder

TINY = TrainConfig.cpu_demo(size=64, bs=16, epochs=2, n_batches=2)

class StopAfter1(Callback):
    order = 100
    def after_epoch(self): raise CancelFitException

@pytest.fixture(scope='module')
def data(tmp_path_factory):
    return open_data(demo_dataset('tiny'), specs=tmp_path_factory.mktemp('specs'))

@pytest.fixture(scope='module')
def done(data, tmp_path_factory):
    run = tmp_path_factory.mktemp('done')/'run'
    train(TINY, data, run, progress=False, plots=False)
    return run

@pytest.fixture
def finished(done, tmp_path):
    shutil.copytree(done, tmp_path/'run')
    return tmp_path/'run'

HOLDER = '''
import sys, time
from pathlib import Path
from fastai.callback.core import Callback
from audiotag2019.config import TrainConfig
from audiotag2019.train import train
class Slow(Callback):
    def before_fit(self): Path(sys.argv[4]).write_text('training')
    def after_batch(self): time.sleep(0.5)
train(TrainConfig.cpu_demo(size=64, bs=16, epochs=50, n_batches=2), sys.argv[1], sys.argv[2], specs=sys.argv[3], progress=False, cbs=[Slow()])
'''

def test_second_train_into_one_folder_is_refused(data, tmp_path):
    (tmp_path/'holder.py').write_text(textwrap.dedent(HOLDER))
    run, flag = tmp_path/'run', tmp_path/'started'
    specs = data[1]['train_curated'].path.parent
    p = subprocess.Popen([sys.executable, str(tmp_path/'holder.py'), str(data[0].root), str(run), str(specs), str(flag)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, 'OMP_NUM_THREADS': '1'})
    try:
        t0 = time.time()
        while not flag.exists():
            assert p.poll() is None, p.stderr.read().decode()[-3000:]
            assert time.time() - t0 < 240, 'the first train did not start'
            time.sleep(0.2)
        for kw in (dict(), dict(resume=True), dict(overwrite=True)):
            with pytest.raises((DataError, FileExistsError)) as e: train(TINY, data, run, progress=False, plots=False, **kw)
            msg = str(e.value)
            assert str(run) in msg and f'pid {p.pid}' in msg and 'another train' in msg, msg
        assert p.poll() is None and (run/'config.json').exists()  # the first one still runs, its folder untouched
    finally:
        p.kill(); p.wait()
    r = train(TINY, data, run, progress=False, plots=False, overwrite=True)  # its holder gone, the folder is free again
    assert r.finished

def test_lock_is_not_in_the_run_folder(data, tmp_path):
    train(TINY, data, tmp_path/'run', progress=False, plots=False)
    assert not [p for p in (tmp_path/'run').rglob('*') if 'lock' in p.name or p.name.endswith('.pid')]

def test_resume_without_config_refuses(data, finished):
    (finished/'config.json').unlink()
    mtime = (finished/'models'/'last.pth').stat().st_mtime_ns
    with pytest.raises((DataError, FileExistsError, FileNotFoundError), match=r'config\.json'): train(TINY, data, finished, progress=False, resume=True)
    assert (finished/'models'/'last.pth').stat().st_mtime_ns == mtime

def test_resume_without_last_checkpoint_refuses(data, finished):
    (finished/'models'/'last.pth').unlink()
    with pytest.raises((DataError, FileNotFoundError), match=r'last\.pth'): train(TINY, data, finished, progress=False, resume=True)
    assert json.loads((finished/'state.json').read_text())['finished']

def test_resume_without_state_refuses(data, finished):
    (finished/'state.json').unlink()
    with pytest.raises((DataError, FileNotFoundError), match=r'state\.json'): train(TINY, data, finished, progress=False, resume=True)
    assert len(pd.read_csv(finished/'history.csv')) == 2

def test_resume_on_an_empty_folder_starts_fresh(data, tmp_path):
    (tmp_path/'run').mkdir()
    assert train(TINY, data, tmp_path/'run', progress=False, plots=False, resume=True).finished

def test_resume_on_other_classes_refuses(data, finished):
    ds, stores = data
    other = dataclasses.replace(ds, vocab=list(reversed(ds.vocab)))  # the same clips, the class list in another order
    before = (finished/'valid_preds.csv').read_text()
    with pytest.raises(DataError, match='class'): train(TINY, (other, stores), finished, progress=False, resume=True)
    assert (finished/'valid_preds.csv').read_text() == before

def test_best_epoch_printed_one_based(data, done):
    r = train(TINY, data, done, progress=False, plots=False, resume=True)
    assert f'(epoch {r.best_epoch + 1})' in repr(r), repr(r)

def test_prediction_from_an_unfinished_run_warns(data, tmp_path):
    run = tmp_path/'run'
    train(TINY, data, run, progress=False, plots=False, cbs=[StopAfter1()])
    with pytest.warns(UserWarning, match=re.escape(f'{run}: unfinished run (epoch 1 of 2): predicting with its last checkpoint')):
        load_model(run, device='cpu')

def test_damaged_store_is_rebuilt(tmp_path):
    root = demo_dataset('tiny')
    ds, stores = open_data(root, specs=tmp_path/'specs', splits=('train_curated',))
    f = stores['train_curated'].path/'spec.u8'
    del stores
    b = bytearray(f.read_bytes()); b[len(b)//2] ^= 0xFF; f.write_bytes(bytes(b))  # one flipped byte in the middle
    with pytest.raises(DataError): SpecStore(f.parent).verify()
    _, st = open_data(root, specs=tmp_path/'specs', splits=('train_curated',))
    st['train_curated'].verify()  # rebuilt: every checksum agrees

def test_predict_folder_keeps_to_the_test_folder(tmp_path, done):
    root = tmp_path/'root'
    shutil.copytree(demo_dataset('tiny'), root)
    sub = pd.read_csv(root/'sample_submission.csv')
    (root/'secret.wav').write_bytes((root/'test'/sub.fname[0]).read_bytes())
    sub.loc[3, 'fname'] = '../secret.wav'
    sub.to_csv(root/'sample_submission.csv', index=False)
    with pytest.raises(DataError) as e: predict_folder(done, root, progress=False, device='cpu')
    assert 'sample_submission.csv' in str(e.value) and 'row 5' in str(e.value) and '../secret.wav' in str(e.value), str(e.value)
