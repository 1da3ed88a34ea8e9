"""Checkpoints from a shared run folder are data, never code: every checkpoint a command reads (`last.pth` and
`last_rng.pth` when `train` resumes, `best.pth`/`last.pth` through `inference.load_model`) is loaded weights-only. A file
that would run code is refused with one line naming it, and its code does not run; a damaged or empty one is a
`DataError` naming it too."""
import json, os, pickle, shutil, warnings
from pathlib import Path
import numpy as np
import pytest
import torch
warnings.filterwarnings('ignore')
from fastai.callback.core import Callback, CancelFitException
from audiotag2019.core import DataError
from audiotag2019.demo import demo_dataset
from audiotag2019.config import TrainConfig
from audiotag2019.learner import open_data
from audiotag2019.train import train
from audiotag2019.inference import load_model

TINY = TrainConfig.cpu_demo(size=64, bs=16, epochs=2, n_batches=2)
REFUSED = 'not a plain weights file; it would run code when loaded (refused)'

class StopAfter1(Callback):
    order = 100  # after the checkpoints
    def after_epoch(self): raise CancelFitException

class Payload:
    "What an attacker would pickle: unpickling it creates the file `marker` (it calls `open`)."
    def __init__(self, marker): self.marker = str(marker)
    def __reduce__(self): return (open, (self.marker, 'w'))

class ShellPayload(Payload):
    "The same through a module torch blocks outright (`os.system`): its refusal is worded 'unsupported GLOBAL … is blocked'."
    def __reduce__(self): return (os.system, (f'touch {self.marker}',))

@pytest.fixture(scope='module')
def data(tmp_path_factory):
    return open_data(demo_dataset('tiny'), specs=tmp_path_factory.mktemp('specs'))

@pytest.fixture(scope='module')
def half_run(data, tmp_path_factory):
    "A run interrupted after its first epoch (so `resume` has work to do): best, last, last_rng, state."
    run = tmp_path_factory.mktemp('base')/'run'
    train(TINY, data, run, progress=False, plots=False, cbs=[StopAfter1()])
    assert not json.loads((run/'state.json').read_text())['finished']
    return run

@pytest.fixture
def run(half_run, tmp_path):
    shutil.copytree(half_run, tmp_path/'run')
    return tmp_path/'run'

def _plant(f, marker, how='torch'):
    "Replace checkpoint `f` with a payload that runs code when unpickled."
    if how == 'torch': torch.save({'model': Payload(marker), 'opt': {}}, f)
    elif how == 'torch_os': torch.save({'model': ShellPayload(marker), 'opt': {}}, f)
    else:  # a plain pickle, not torch.save's zip: protocol 2 names its globals one way, protocol 5 another
        with open(f, 'wb') as o: pickle.dump({'x': Payload(marker)}, o, protocol=int(how[-1]))

@pytest.mark.parametrize('how', ['torch', 'torch_os', 'pickle2', 'pickle5'])
@pytest.mark.parametrize('name', ['last.pth', 'last_rng.pth'])
def test_resume_refuses_code_in_a_checkpoint(data, run, tmp_path, name, how):
    marker = tmp_path/'pwned'
    _plant(run/'models'/name, marker, how)
    with pytest.raises(DataError) as e: train(TINY, data, run, progress=False, plots=False, resume=True)
    assert not marker.exists(), 'the payload ran'
    assert str(e.value) == f'{run/"models"/name}: {REFUSED}'

@pytest.mark.parametrize('which', ['best', 'last'])
def test_load_model_refuses_code(run, tmp_path, which):
    marker = tmp_path/'pwned'
    _plant(run/'models'/f'{which}.pth', marker)
    with pytest.raises(DataError) as e: load_model(run, which, device='cpu')
    assert not marker.exists(), 'the payload ran'
    assert str(e.value) == f'{run/"models"/f"{which}.pth"}: {REFUSED}'
    assert 'weights_only' not in str(e.value)

@pytest.mark.parametrize('damage', ['empty', 'cut', 'text'])
@pytest.mark.parametrize('name', ['last.pth', 'last_rng.pth', 'best.pth'])
def test_damaged_checkpoint_is_named(data, run, name, damage):
    f = run/'models'/name
    b = f.read_bytes()
    f.write_bytes({'empty': b'', 'cut': b[:len(b)//2], 'text': b'hello\n'}[damage])
    if name == 'best.pth': call = lambda: load_model(run, 'best', device='cpu')
    else: call = lambda: train(TINY, data, run, progress=False, plots=False, resume=True)
    with pytest.raises(DataError) as e: call()
    msg = str(e.value)
    assert msg.startswith(f'{f}: not a readable checkpoint (') and msg.endswith('); retrain or restore it'), msg
    assert '\n' not in msg

def test_resume_reads_plain_random_states(data, run):
    "`last_rng.pth` holds tensors, numbers, strings and lists only: it loads weights-only, and a resume finishes the run."
    r = torch.load(run/'models'/'last_rng.pth', weights_only=True)
    assert isinstance(r['torch'], torch.Tensor) and isinstance(r['random'], list) and isinstance(r['dl'], list)
    res = train(TINY, data, run, progress=False, plots=False, resume=True)
    assert res.finished and list(res.history.epoch) == [0, 1]

def test_older_random_states_still_resume(data, run):
    "A `last_rng.pth` from before (numpy's state as an array, Python's as tuples) is still read weights-only."
    import random
    r = torch.load(run/'models'/'last_rng.pth', weights_only=True)
    old = dict(torch=r['torch'], random=random.getstate(), numpy=np.random.get_state(), dl=random.Random(0).getstate(), smooth=tuple(r['smooth']))
    torch.save(old, run/'models'/'last_rng.pth')
    assert train(TINY, data, run, progress=False, plots=False, resume=True).finished
