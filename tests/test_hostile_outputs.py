"""Outputs are written whole or not at all: a full disk while a prediction file, a submission or a checkpoint is written
leaves the old file (or none), never a cut one, and is one `DataError` line naming the file. `save_preds` refuses a
format it does not write and a folder that does not exist."""
import errno, io, json, os, shutil, warnings
from pathlib import Path
import numpy as np
import pandas as pd
import pytest
import torch
warnings.filterwarnings('ignore')
from fastai.callback.core import Callback
from audiotag2019.core import DataError, read_vocab
from audiotag2019.demo import demo_dataset
from audiotag2019.tta import probs_table
from audiotag2019.ensemble import save_preds, load_preds, write_submission
from audiotag2019.config import TrainConfig
from audiotag2019.learner import open_data
from audiotag2019.train import train

FULL = 'No space left on device'

@pytest.fixture(scope='module')
def root(): return demo_dataset('tiny')

def _table(root, seed=0):
    sample = pd.read_csv(root/'sample_submission.csv')
    vocab = read_vocab(root)
    return probs_table(sample.fname, np.random.default_rng(seed).random((len(sample), len(vocab))).astype(np.float32), vocab)

def _half_then_full(data, target):
    "Write the first half of `data` where the real writer would, then fail as a full disk does."
    half = data[:len(data) // 2]
    if isinstance(target, (str, os.PathLike)):
        with open(target, 'wb') as f: f.write(half)
    else: target.write(half if 'b' in getattr(target, 'mode', 'b') or isinstance(target, io.BytesIO) else half.decode())
    raise OSError(errno.ENOSPC, FULL)

def _one_line(e, f):
    msg = str(e.value)
    assert '\n' not in msg and str(f) in msg and FULL in msg, msg

def _no_temp_files(d): assert sorted(p.name for p in Path(d).iterdir() if p.name.startswith('.') or 'tmp' in p.name) == []

@pytest.mark.parametrize('name', ['p.csv', 'p.csv.gz'])
def test_full_disk_keeps_old_prediction_csv(root, tmp_path, monkeypatch, name):
    f = tmp_path/name
    save_preds(_table(root, 0), f); old = f.read_bytes()
    monkeypatch.setattr(pd.DataFrame, 'to_csv', _csv_full())
    with pytest.raises(DataError) as e: save_preds(_table(root, 1), f)
    _one_line(e, f)
    assert f.read_bytes() == old
    _no_temp_files(tmp_path)

def _csv_full():
    real = pd.DataFrame.to_csv
    def to_csv(self, path_or_buf=None, *a, **kw):
        kw.pop('compression', None)
        return _half_then_full(real(self, None, *a, **kw).encode(), path_or_buf)
    return to_csv

def test_full_disk_keeps_old_npz(root, tmp_path, monkeypatch):
    f = tmp_path/'p.npz'
    save_preds(_table(root, 0), f); old = f.read_bytes()
    real = np.savez
    def savez(file, **arrays):
        b = io.BytesIO(); real(b, **arrays)
        return _half_then_full(b.getvalue(), file)
    monkeypatch.setattr(np, 'savez', savez)
    with pytest.raises(DataError) as e: save_preds(_table(root, 1), f)
    _one_line(e, f)
    assert f.read_bytes() == old
    _no_temp_files(tmp_path)

def test_full_disk_leaves_no_cut_submission(root, tmp_path, monkeypatch):
    f = tmp_path/'submission.csv'
    monkeypatch.setattr(pd.DataFrame, 'to_csv', _csv_full())
    with pytest.raises(DataError) as e: write_submission(_table(root), root/'sample_submission.csv', f)
    _one_line(e, f)
    assert not f.exists()
    _no_temp_files(tmp_path)

def test_save_preds_refuses_unknown_format(root, tmp_path):
    with pytest.raises((DataError, ValueError), match=r'\.parquet'): save_preds(_table(root), tmp_path/'x.parquet')
    assert not (tmp_path/'x.parquet').exists()

def test_save_preds_needs_an_existing_folder(root, tmp_path):
    with pytest.raises((DataError, FileNotFoundError), match='no such folder'): save_preds(_table(root), tmp_path/'no'/'such'/'p.csv')
    assert not (tmp_path/'no').exists()
    with pytest.raises((DataError, FileNotFoundError), match='no such folder'): write_submission(_table(root), root/'sample_submission.csv', tmp_path/'no'/'s.csv')
    assert not (tmp_path/'no').exists()

# training: the second epoch's checkpoints hit a full disk

TINY = TrainConfig.cpu_demo(size=64, bs=16, epochs=2, n_batches=2)

@pytest.fixture(scope='module')
def data(tmp_path_factory): return open_data(demo_dataset('tiny'), specs=tmp_path_factory.mktemp('specs'))

class DiskFullFrom(Callback):
    "From epoch `k` on, every `torch.save` writes half its bytes and fails with ENOSPC."
    order = -100
    def __init__(self, k, monkeypatch): self.k, self.mp = k, monkeypatch
    def before_epoch(self):
        if self.epoch != self.k: return
        real = torch.save
        def save(obj, f, *a, **kw):
            b = io.BytesIO(); real(obj, b, *a, **kw)
            return _half_then_full(b.getvalue(), f)
        self.mp.setattr(torch, 'save', save)

def test_full_disk_while_checkpointing(data, tmp_path, monkeypatch):
    run = tmp_path/'run'
    with pytest.raises(DataError) as e: train(TINY, data, run, progress=False, plots=False, cbs=[DiskFullFrom(1, monkeypatch)])
    msg = str(e.value)
    assert '\n' not in msg and FULL in msg and any(str(run/'models'/n) in msg for n in ('best.pth', 'last.pth', 'last_rng.pth')), msg
    monkeypatch.undo()
    for n in ('best.pth', 'last.pth', 'last_rng.pth'): torch.load(run/'models'/n, weights_only=n != 'last.pth')  # whole files, from epoch 1
    _no_temp_files(run/'models'); _no_temp_files(run)
    assert json.loads((run/'state.json').read_text())['epochs_done'] == 1

def test_full_disk_while_writing_state(data, tmp_path, monkeypatch):
    "The disk reports full when state.json's bytes are flushed (delayed allocation, a network disk): the old state.json stays."
    run = tmp_path/'run'
    class Full(Callback):
        order = -100
        def before_epoch(self):
            if self.epoch != 1: return
            real = os.fsync
            def fsync(fd):
                if 'state' in os.readlink(f'/proc/self/fd/{fd}'): raise OSError(errno.ENOSPC, FULL)
                return real(fd)
            monkeypatch.setattr(os, 'fsync', fsync)
    with pytest.raises(DataError) as e: train(TINY, data, run, progress=False, plots=False, cbs=[Full()])
    assert str(run/'state.json') in str(e.value) and FULL in str(e.value), str(e.value)
    monkeypatch.undo()
    assert json.loads((run/'state.json').read_text())['epochs_done'] == 1
    _no_temp_files(run)
