"The spectrogram store: random access, streaming writes, and resuming an interrupted build byte-for-byte."
import json
from pathlib import Path
import numpy as np
import pytest
import soundfile as sf
import audiotag2019.store as S  # build_store: where it calls `_prepare_file`
from audiotag2019.spectrogram import SpecParams, melspec_batch, load_audio
from audiotag2019.store import SpecStore, build_store
from audiotag2019.core import DataError

SR = 44100

@pytest.fixture(scope='module')
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp('audio'); rng = np.random.default_rng(1); out = []
    for i, dur in enumerate([0.3, 2.5, 1.0, 6.0, 0.1, 3.3, 4.0, 12.0, 2.0, 0.7, 5.0]):
        n = int(dur*SR); t = np.arange(n)/SR
        y = 0.3*np.sin(2*np.pi*rng.uniform(100, 3000)*t) + 0.05*rng.standard_normal(n)
        y[:n//5] *= 1e-4
        sf.write(d/f'clip{i:02d}.wav', y.astype(np.float32), SR); out.append(d/f'clip{i:02d}.wav')
    (d/'broken.wav').write_bytes(b'garbage'); out.insert(5, d/'broken.wav')
    return out

def _bytes(st): return (st.path/'spec.u8').read_bytes(), (st.path/'index.csv').read_text()

def test_random_access(files, tmp_path):
    st = build_store(files, tmp_path/'s', batch_size=4, progress=False, device='cpu')
    assert len(st) == len(files) and st.fnames == [f.name for f in files]
    ims = melspec_batch([load_audio(f) for f in files if f.name != 'broken.wav'], device='cpu')
    good = [i for i, f in enumerate(files) if f.name != 'broken.wav']
    for i, im in zip(good, ims): assert (st[i] == im).all()      # the same batched computation, whatever the batch
    assert isinstance(st.data, np.memmap) and not st[0].flags.writeable
    assert st.widths.tolist() == [st[i].shape[1] for i in range(len(st))]
    assert st.lookup('clip03.wav') == 3 and abs(st.get('clip03.wav').shape[1] - (1 + (6*SR - 6*SR//5)//694)) <= 2  # quiet head trimmed
    assert st[-1].shape == st[len(st) - 1].shape
    assert [s for s in st.status] == ['error' if f.name == 'broken.wav' else 'ok' for f in files]
    assert sum(1 for _ in st) == len(st)
    meta = json.loads((st.path/'params.json').read_text())
    assert SpecParams(**meta['params']) == SpecParams()
    assert (st.path/'spec.u8').stat().st_size == 128*st.widths.sum()

class Stop(BaseException): "Stands for Ctrl-C or a killed process."

@pytest.mark.parametrize('k', [0, 3, 7, 9])
def test_resume_after_interruption_is_byte_identical(files, tmp_path, monkeypatch, k):
    full = build_store(files, tmp_path/'full', batch_size=3, progress=False, device='cpu')
    calls, real = [0], S._prepare_file
    def failing(path, p):
        calls[0] += 1
        if calls[0] > k: raise Stop()
        return real(path, p)
    monkeypatch.setattr(S, '_prepare_file', failing)
    with pytest.raises(Stop): build_store(files, tmp_path/'part', batch_size=3, n_workers=1, progress=False, device='cpu')
    part = SpecStore(tmp_path/'part')
    assert len(part) <= k and part.fnames == [f.name for f in files[:len(part)]]
    # simulate the worst moment: image bytes written but their index rows not yet
    with open(tmp_path/'part'/'spec.u8', 'ab') as f: f.write(b'\x07'*1000)
    with open(tmp_path/'part'/'index.csv', 'a') as f: f.write('clip99.wav,12')       # a cut-short line
    done = len(part)
    computed = []
    def counting(path, p): computed.append(Path(path).name); return real(path, p)
    monkeypatch.setattr(S, '_prepare_file', counting)
    res = build_store(files, tmp_path/'part', batch_size=3, progress=False, device='cpu')
    assert computed == [f.name for f in files[done:]]               # nothing recomputed, nothing twice
    assert _bytes(res) == _bytes(full)                               # byte for byte the uninterrupted build

def test_resume_false_rebuilds_and_params_checked(files, tmp_path):
    build_store(files[:3], tmp_path/'s', progress=False, device='cpu')
    with pytest.raises(DataError, match='resume=False'):
        build_store(files[:3], tmp_path/'s', SpecParams(n_mels=64), progress=False, device='cpu')
    st = build_store(files[:2], tmp_path/'s', SpecParams(n_mels=64), resume=False, progress=False, device='cpu')
    assert len(st) == 2 and st[0].shape[0] == 64

def test_resume_adds_new_files(files, tmp_path):
    build_store(files[:4], tmp_path/'s', progress=False, device='cpu')
    st = build_store(files, tmp_path/'s', progress=False, device='cpu')
    assert st.fnames == [f.name for f in files]

def test_duplicate_names_refused(files, tmp_path):
    with pytest.raises(DataError, match='more than once'):
        build_store([files[0], files[0]], tmp_path/'s', progress=False, device='cpu')

def test_store_errors(tmp_path):
    with pytest.raises(DataError, match='not a spectrogram store'): SpecStore(tmp_path)
    st = build_store([], tmp_path/'empty', progress=False, device='cpu')
    assert len(st) == 0 and st.fnames == []
    with pytest.raises(KeyError, match='nope.wav'): st.lookup('nope.wav')
