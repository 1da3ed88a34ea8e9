"Damaged spectrogram stores: refused with a `DataError` naming the store and the clips, or recomputed on resume — never zero-filled."
import json, shutil, warnings
from pathlib import Path
import numpy as np
import pandas as pd
import pytest
from conftest import tone_files
import audiotag2019.store as S  # build_store: where it calls `_prepare_file`
from audiotag2019.spectrogram import SpecParams, SpecStore, build_store, build_dataset_stores
from audiotag2019.core import DataError

SR = 44100
DURS = [0.3, 2.5, 1.0, 3.0, 0.1, 1.7, 4.0, 2.0]

@pytest.fixture(scope='module')
def files(tmp_path_factory):
    return tone_files(tmp_path_factory.mktemp('audio'), DURS, 3, 'clip')

@pytest.fixture(scope='module')
def full(files, tmp_path_factory):
    "An uninterrupted build: the reference every repaired store must equal byte for byte."
    return build_store(files, tmp_path_factory.mktemp('full')/'s', batch_size=3, progress=False, device='cpu').path

@pytest.fixture
def copy(full, tmp_path):
    return Path(shutil.copytree(full, tmp_path/'s'))

def _bytes(d): return (Path(d)/'spec.u8').read_bytes(), (Path(d)/'index.csv').read_text()

def _ix(d): return pd.read_csv(Path(d)/'index.csv', dtype={'fname': str, 'message': str}, keep_default_na=False)

def _edit_index(d, row, **kw):
    ix = pd.read_csv(Path(d)/'index.csv', dtype=str, keep_default_na=False)   # as text: any edit, other fields unchanged
    for k, v in kw.items(): ix.loc[row, k] = str(v)
    ix.to_csv(Path(d)/'index.csv', index=False, lineterminator='\n')

def _resume(files, d, monkeypatch):
    "Resume the build of `d`; returns (store, clips computed, warnings)."
    computed, real = [], S._prepare_file
    def counting(path, p): computed.append(Path(path).name); return real(path, p)
    monkeypatch.setattr(S, '_prepare_file', counting)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        st = build_store(files, d, batch_size=3, progress=False, device='cpu')
    return st, computed, [str(o.message) for o in w]

def _half(d): return (Path(d)/'spec.u8').stat().st_size//2

def test_truncated_data_refused_naming_the_clips(copy):
    ix = _ix(copy); cut = _half(copy)
    with open(copy/'spec.u8', 'r+b') as f: f.truncate(cut)
    past = ix.fname[ix.offset + ix.width*128 > cut].tolist()
    assert past and len(past) < len(ix)
    with pytest.raises(DataError) as e: SpecStore(copy)
    msg = str(e.value)
    assert str(copy) in msg and 'damaged' in msg and '\n' not in msg
    for f in ix.fname: assert (f in msg) == (f in past), f                  # every clip that lost bytes is named, no other

def test_truncated_data_recomputed_on_resume(files, full, copy, monkeypatch):
    ix = _ix(copy); cut = _half(copy)
    with open(copy/'spec.u8', 'r+b') as f: f.truncate(cut)
    first = int(np.flatnonzero((ix.offset + ix.width*128 > cut).to_numpy())[0])
    st, computed, w = _resume(files, copy, monkeypatch)
    assert computed == [f.name for f in files[first:]]                       # the damaged clips (and those after them) again
    assert any(ix.fname[first] in m and 'computed again' in m for m in w), w
    assert _bytes(copy) == _bytes(full)                                      # not zero-filled: byte for byte the full build
    assert st.counts() == {'ok': len(files), 'handled': 0, 'failed': 0}

@pytest.mark.parametrize('row', [3, len(DURS) - 1])
def test_edited_width_refused_then_repaired(files, full, copy, monkeypatch, row):
    _edit_index(copy, row, width=9999)
    with pytest.raises(DataError, match=f'clip{row}.wav'): SpecStore(copy)
    size = (copy/'spec.u8').stat().st_size
    st, computed, w = _resume(files, copy, monkeypatch)
    assert (copy/'spec.u8').stat().st_size == (full/'spec.u8').stat().st_size   # never lengthened past its clips
    assert size == (full/'spec.u8').stat().st_size
    assert computed == [f.name for f in files[row:]]
    assert _bytes(copy) == _bytes(full)

def test_n_mels_edited_in_params_refused(copy, files):
    meta = json.loads((copy/'params.json').read_text()); meta['params']['n_mels'] = 64
    (copy/'params.json').write_text(json.dumps(meta))
    with pytest.raises(DataError, match='n_mels') as e: SpecStore(copy)
    assert str(copy) in str(e.value)
    with pytest.raises(DataError, match='other parameters'): build_store(files, copy, progress=False, device='cpu')

def test_n_mels_edited_single_clip_store_refused(files, tmp_path):
    st = build_store(files[:1], tmp_path/'one', progress=False, device='cpu')
    meta = json.loads((st.path/'params.json').read_text()); meta['params']['n_mels'] = 64
    (st.path/'params.json').write_text(json.dumps(meta))
    st = SpecStore(st.path)                        # sizes agree (the index's bytes fit), but the checksum cannot
    with pytest.raises(DataError, match='clip0.wav'): st[0]

def test_other_dtype_refused(copy):
    meta = json.loads((copy/'params.json').read_text()); meta['dtype'] = 'float32'
    (copy/'params.json').write_text(json.dumps(meta))
    with pytest.raises(DataError, match='float32'): SpecStore(copy)

def test_flipped_byte_caught_when_read_and_repaired(files, full, copy, monkeypatch):
    ix = _ix(copy); o = int(ix.offset[4]) + 7
    b = bytearray((copy/'spec.u8').read_bytes()); b[o] ^= 0x40; (copy/'spec.u8').write_bytes(bytes(b))
    st = SpecStore(copy)                                                     # opening reads no image
    assert st[3].shape == (128, ix.width[3])                                 # the other clips are served
    with pytest.raises(DataError, match=r'clip4\.wav.*checksum') as e: st[4]
    assert str(copy) in str(e.value)
    with pytest.raises(DataError, match=r'1 of 8 clip\(s\).*clip4\.wav'): st.verify()
    st2, computed, w = _resume(files, copy, monkeypatch)
    assert computed == [f.name for f in files[4:]]
    assert _bytes(copy) == _bytes(full)
    assert st2.verify() is st2

def _strip_checksums(d):
    ix = _ix(d).drop(columns='crc32', errors='ignore')
    ix.to_csv(Path(d)/'index.csv', index=False, lineterminator='\n')

def test_store_without_checksums_opens_and_is_size_checked(files, full, copy, monkeypatch):
    "A store written before checksums: it opens and reads; size and index are still checked, and a resume repairs it."
    _strip_checksums(copy)
    st = SpecStore(copy)
    ref = SpecStore(full)
    for i in range(len(ref)): assert np.array_equal(st[i], ref[i])
    assert st.verify() is st
    with open(copy/'spec.u8', 'r+b') as f: f.truncate(_half(copy))
    with pytest.raises(DataError, match=f'clip{len(files) - 1}.wav'): SpecStore(copy)
    st, computed, w = _resume(files, copy, monkeypatch)
    assert computed and _bytes(copy)[0] == _bytes(full)[0]
    assert list(st.index.columns) == list(ref.index.columns)

@pytest.mark.parametrize('garbage', [b'\x89PNG\r\n\x1a\n\x00\x00garbage\xff\xfe', b'hello world\nthis is not a csv at all\n',
                                     b'name,size\na.wav,12\n', b'\x00\x00\x00\x00'])
def test_garbage_index_is_a_data_error_naming_the_file(copy, garbage):
    (copy/'index.csv').write_bytes(garbage)
    with pytest.raises(DataError, match='index.csv') as e: SpecStore(copy)
    assert '\n' not in str(e.value)

@pytest.mark.parametrize('edit,clip', [(dict(row=2, offset='12abc'), 'clip2.wav'), (dict(row=5, offset=0), 'clip5.wav'),
                                       (dict(row=1, width=-3), 'clip1.wav'), (dict(row=6, status='weird'), 'clip6.wav'),
                                       (dict(row=3, fname='clip1.wav'), 'clip1.wav'), (dict(row=0, crc32='xyz'), 'clip0.wav')])
def test_bad_index_rows_refused_naming_the_clip(copy, edit, clip):
    _edit_index(copy, edit.pop('row'), **edit)
    with pytest.raises(DataError, match=clip) as e: SpecStore(copy)
    assert str(copy) in str(e.value) and 'damaged' in str(e.value)

def test_index_row_with_extra_fields_refused(copy):
    lines = (copy/'index.csv').read_text().splitlines(keepends=True)
    lines[3] = lines[3].rstrip('\n') + ',1,2,3\n'
    (copy/'index.csv').write_text(''.join(lines))
    with pytest.raises(DataError, match='clip2.wav'): SpecStore(copy)

@pytest.mark.parametrize('text', ['{not json', '{"format": "x"}', '{"params": {"n_mels": 128, "colour": "blue"}}', '[1, 2]'])
def test_garbage_params_json_is_a_data_error_naming_the_file(copy, text, files):
    (copy/'params.json').write_text(text)
    with pytest.raises(DataError, match='params.json'): SpecStore(copy)
    with pytest.raises(DataError, match='params.json'): build_store(files, copy, progress=False, device='cpu')

def test_garbage_index_rebuilt_on_resume(files, full, copy, monkeypatch):
    (copy/'index.csv').write_bytes(b'\x00garbage\xff' * 10)
    st, computed, w = _resume(files, copy, monkeypatch)
    assert computed == [f.name for f in files]
    assert any('index.csv' in m for m in w), w
    assert _bytes(copy) == _bytes(full)

def test_dataset_stores_repaired_after_truncation(tmp_path, monkeypatch):
    "What `train` does with a store it cannot open: build it again, which must recompute the damaged clips (not serve zeros)."
    from audiotag2019.demo import demo_dataset
    root = demo_dataset('tiny')
    ref = build_dataset_stores(root, tmp_path/'ref', splits=('train_curated',), progress=False, device='cpu')['train_curated']
    shutil.copytree(tmp_path/'ref', tmp_path/'specs')
    with open(tmp_path/'specs'/'train_curated'/'spec.u8', 'r+b') as f: f.truncate(_half(tmp_path/'specs'/'train_curated'))
    with pytest.raises(DataError): SpecStore(tmp_path/'specs'/'train_curated')
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        st = build_dataset_stores(root, tmp_path/'specs', splits=('train_curated',), progress=False, device='cpu')['train_curated']
    assert _bytes(st.path) == _bytes(ref.path)
    blank = [f for f in st.fnames if st.get(f).max() == 0]
    assert blank == [f for f in ref.fnames if ref.get(f).max() == 0]
