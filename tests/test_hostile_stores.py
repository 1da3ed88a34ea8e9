"Damaged spectrogram stores: refused with a `DataError` naming the store and the clips, or recomputed on resume — never zero-filled."
import json, shutil, warnings
from pathlib import Path
import numpy as np
import pandas as pd
import pytest
from conftest import tone_files
import audiotag2019.store as S  # build_store: where it calls `_prepare_file`
from audiotag2019.spectrogram import SpecParams
from audiotag2019.store import SpecStore, build_store, build_dataset_stores
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
    with pytest.raises(DataError, match='its params were changed after the images were computed'): SpecStore(st.path)  # refused on opening
    del meta['recipe']; (st.path/'params.json').write_text(json.dumps(meta))  # as a store written before its recipe was bound
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
    "What a store written before checksums looks like: no crc32 (and no source) column."
    ix = _ix(d).drop(columns=['crc32', 'source'], errors='ignore')
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

def test_swapped_names_are_caught_and_recomputed(files, full, copy, monkeypatch):
    "Two clips' names exchanged in index.csv: each checksum covers the clip's name and place, so both rows fail; a resume computes them again."
    ix = _ix(copy)
    _edit_index(copy, 2, fname=ix.fname[5]); _edit_index(copy, 5, fname=ix.fname[2])
    st = SpecStore(copy)  # sizes and places agree: it opens ...
    with pytest.raises(DataError, match=rf'{ix.fname[5]} \(its name, place or bytes do not match their checksum\)'): st[2]  # ... and refuses the row (named as it now reads)
    with pytest.raises(DataError, match=r'2 of 8 clip\(s\)'): SpecStore(copy).verify()
    st2, computed, _ = _resume(files, copy, monkeypatch)
    assert computed == [f.name for f in files[2:]] and _bytes(copy) == _bytes(full)

def test_repeated_name_is_refused_and_recomputed(files, full, copy, monkeypatch):
    "A row renamed to an earlier clip's name: refused on open; a resume keeps the genuine rows and computes the rest again."
    ix = _ix(copy)
    _edit_index(copy, 1, fname=ix.fname[5])
    with pytest.raises(DataError, match='repeated name|its name, place or bytes'): SpecStore(copy).verify()
    st2, computed, _ = _resume(files, copy, monkeypatch)
    assert computed == [f.name for f in files[1:]] and _bytes(copy) == _bytes(full)

@pytest.mark.parametrize('edit', [dict(hop=347), dict(top_db=40.)])
def test_edited_recipe_is_refused(copy, edit):
    "params.json edited after the images were computed: refused with a clear line, not believed (a model would be paired with the wrong front end)."
    meta = json.loads((copy/'params.json').read_text()); meta['params'].update(edit)
    (copy/'params.json').write_text(json.dumps(meta))
    with pytest.raises(DataError, match='its params were changed after the images were computed'): SpecStore(copy)

def test_store_of_other_files_with_the_same_names_is_rebuilt(files, full, copy, tmp_path, monkeypatch):
    "The same names, other audio: each clip records what it was built from, so the store is computed again from the first clip that differs."
    (tmp_path/'other').mkdir(); other = tone_files(tmp_path/'other', DURS, 7, 'clip')  # other tones, the same names
    assert [f.name for f in other] == [f.name for f in files]
    st, computed, w = _resume(other, copy, monkeypatch)
    computed = list(computed)  # before the reference build below adds to it
    fresh = build_store(other, tmp_path/'fresh'/'s', batch_size=3, progress=False, device='cpu')
    assert computed == [f.name for f in other] and _bytes(copy)[0] == _bytes(fresh.path)[0] != _bytes(full)[0]
    assert any('built from another file of that name' in m for m in w), w
    assert SpecStore(copy).stale({f.name: S._source(f) for f in other}) == {}

def test_open_data_rebuilds_a_store_whose_audio_changed(tmp_path):
    "`open_data` (every command's way in): a dataset whose test clip was replaced by other audio of the same name gets that clip computed again."
    from audiotag2019.demo import demo_dataset
    from audiotag2019.learner import open_data
    root = Path(shutil.copytree(demo_dataset('tiny'), tmp_path/'root'))
    ds, st = open_data(root, specs=tmp_path/'specs', splits=('test',))
    a, b = st['test'].fnames[:2]
    before = np.array(st['test'].get(a))
    shutil.copy(root/'test'/b, root/'test'/a)  # a's file now holds b's audio
    _, st2 = open_data(root, specs=tmp_path/'specs', splits=('test',))
    assert np.array_equal(st2['test'].get(a), st2['test'].get(b)) and not np.array_equal(st2['test'].get(a), before)
