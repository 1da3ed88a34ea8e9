"A full disk (or another write error) while a store is written: one `DataError` line naming the store, and a store that resumes."
import errno, shutil
from pathlib import Path
import numpy as np
import pytest
from conftest import tone_files
import audiotag2019.store as S  # build_store: where it opens files
from audiotag2019.store import SpecStore, build_store, write_store
from audiotag2019.core import DataError

SR = 44100

@pytest.fixture(scope='module')
def files(tmp_path_factory):
    return tone_files(tmp_path_factory.mktemp('audio'), [0.5, 2.5, 1.0, 3.0, 0.2, 1.7, 2.2], 5, 'c')

@pytest.fixture(scope='module')
def full(files, tmp_path_factory):
    return build_store(files, tmp_path_factory.mktemp('full')/'s', batch_size=2, progress=False, device='cpu').path

def _bytes(d): return (Path(d)/'spec.u8').read_bytes(), (Path(d)/'index.csv').read_text()

class _Full:
    "A file on a disk that fills up after `left[0]` more bytes: what fits is written, then `OSError(ENOSPC)` (as `write(2)` does)."
    def __init__(self, f, left, err): self._f, self._left, self._err = f, left, err
    def write(self, b):
        v = b if isinstance(b, str) else memoryview(b).cast('B')
        n = len(v)
        if n <= self._left[0]: self._left[0] -= n; return self._f.write(b)
        k, self._left[0] = self._left[0], 0
        if k: self._f.write(v[:k]); self._f.flush()
        raise OSError(self._err, errno.errorcode[self._err] if self._err != errno.ENOSPC else 'No space left on device')
    def __getattr__(self, k): return getattr(self._f, k)
    def __iter__(self): return iter(self._f)
    def __enter__(self): return self
    def __exit__(self, *a): self._f.close()

def fill_disk(monkeypatch, budget, match=('spec.u8', 'index.csv', 'params.json'), err=errno.ENOSPC):
    "Every file the store module opens for writing whose name contains one of `match` shares `budget` bytes."
    left = [budget]
    def fake_open(path, mode='r', *a, **kw):
        f = open(path, mode, *a, **kw)
        if any(c in mode for c in 'wax+') and any(m in Path(path).name for m in match): return _Full(f, left, err)
        return f
    monkeypatch.setattr(S, 'open', fake_open, raising=False)

def _check_one_line(e, out):
    msg = str(e)
    assert '\n' not in msg and str(out) in msg, msg
    assert 'run the same command again' in msg or 'again' in msg, msg

@pytest.mark.parametrize('frac', [0, 0.2, 0.5, 0.95])
def test_full_disk_while_writing_images(files, full, tmp_path, monkeypatch, frac):
    out = tmp_path/'s'
    build_store([], out, progress=False, device='cpu')                 # the store exists; its clips fill the disk
    fill_disk(monkeypatch, int(frac*(full/'spec.u8').stat().st_size), match=('spec.u8',))
    with pytest.raises(DataError) as e: build_store(files, out, batch_size=2, progress=False, device='cpu')
    _check_one_line(e.value, out)
    assert 'disk is full' in str(e.value)
    assert isinstance(e.value, OSError) and e.value.errno == errno.ENOSPC  # also the OSError it was (callers may look at errno)
    monkeypatch.undo()
    st = SpecStore(out)                                                  # complete clips only (the cut tail is ignored)
    assert st.verify() is st
    build_store(files, out, batch_size=2, progress=False, device='cpu')
    assert _bytes(out) == _bytes(full)

@pytest.mark.parametrize('frac', [0.1, 0.5, 0.9])
def test_full_disk_while_writing_the_index(files, full, tmp_path, monkeypatch, frac):
    out = tmp_path/'s'
    build_store([], out, progress=False, device='cpu')
    rows = (full/'index.csv').read_text().split('\n', 1)[1]            # what the build appends after the header
    fill_disk(monkeypatch, int(frac*len(rows)), match=('index.csv',))
    with pytest.raises(DataError) as e: build_store(files, out, batch_size=2, progress=False, device='cpu')
    _check_one_line(e.value, out)
    monkeypatch.undo()
    st = SpecStore(out); assert st.verify() is st
    build_store(files, out, batch_size=2, progress=False, device='cpu')
    assert _bytes(out) == _bytes(full)

def test_full_disk_on_a_fresh_store(files, full, tmp_path, monkeypatch):
    out = tmp_path/'s'
    fill_disk(monkeypatch, 0)
    with pytest.raises(DataError) as e: build_store(files, out, progress=False, device='cpu')
    _check_one_line(e.value, out)
    monkeypatch.undo()
    assert not (out/'params.json').exists() or SpecStore(out) is not None   # no half-written params.json
    build_store(files, out, batch_size=2, progress=False, device='cpu')
    assert _bytes(out) == _bytes(full)

def test_index_rewrite_on_resume_is_atomic(files, full, tmp_path, monkeypatch):
    "Resuming rewrites index.csv (dropping a cut-short line): a full disk then must leave the old index, not an empty one."
    out = Path(shutil.copytree(full, tmp_path/'s'))
    with open(out/'index.csv', 'a') as f: f.write('c99.wav,12')         # a cut-short last line: resuming rewrites the index
    before = (out/'index.csv').read_text()
    fill_disk(monkeypatch, 10, match=('index.csv',))
    with pytest.raises(DataError) as e: build_store(files, out, progress=False, device='cpu')
    _check_one_line(e.value, out)
    monkeypatch.undo()
    assert (out/'index.csv').read_text() == before
    assert [p.name for p in out.iterdir() if p.name not in ('spec.u8', 'index.csv', 'params.json')] == []   # no temporary left
    assert len(SpecStore(out)) == len(files)
    build_store(files, out, progress=False, device='cpu')
    assert _bytes(out) == _bytes(full)

def test_params_json_written_atomically(files, tmp_path, monkeypatch):
    out = tmp_path/'s'
    fill_disk(monkeypatch, 5, match=('params.json',))
    with pytest.raises(DataError) as e: write_store([np.zeros((128, 3), np.uint8)], ['a'], out)
    _check_one_line(e.value, out)
    monkeypatch.undo()
    assert not (out/'params.json').exists()                              # never a cut params.json
    assert list(out.iterdir()) == [] or all(p.name in ('spec.u8', 'index.csv') for p in out.iterdir())

@pytest.mark.parametrize('err', [errno.EIO, errno.EFBIG, errno.EDQUOT])
def test_other_write_errors_are_one_line(files, full, tmp_path, monkeypatch, err):
    out = tmp_path/'s'
    build_store([], out, progress=False, device='cpu')
    fill_disk(monkeypatch, (full/'spec.u8').stat().st_size//3, match=('spec.u8',), err=err)
    with pytest.raises(DataError) as e: build_store(files, out, batch_size=2, progress=False, device='cpu')
    _check_one_line(e.value, out)
    assert e.value.errno == err

def test_read_only_folder_stays_an_oserror_callers_recognise(files, tmp_path, monkeypatch):
    "`train` explains a read-only specs folder itself (it looks for EROFS/EACCES); the store's error keeps that errno."
    out = tmp_path/'s'
    fill_disk(monkeypatch, 0, err=errno.EROFS)
    with pytest.raises(OSError) as e: build_store(files, out, progress=False, device='cpu')
    assert e.value.errno == errno.EROFS and e.value.strerror
    assert isinstance(e.value, DataError)
