"File names in the csvs that point outside their split folder: a csv error naming the file and the row, never a file opened elsewhere."
import warnings
from pathlib import Path
import numpy as np
import pytest
import soundfile as sf
from audiotag2019.core import DataError, SPLITS, load_dataset, read_labels_csv

def _root(d, curated_extra='', test_extra=''):
    "A 2-class root in `d/data/root`, and an audio file outside it at `d/x.wav` (what `../../x.wav` reaches from a split folder)."
    d = Path(d); root = d/'data'/'root'
    for s in SPLITS: (root/s).mkdir(parents=True, exist_ok=True)
    (root/'train_curated'/'sub').mkdir()
    for f in ['train_curated/a.wav', 'train_curated/sub/x.wav', 'test/t.wav', 'data/x.wav']:
        p = root/f if not f.startswith('data/') else d/f
        sf.write(p, np.zeros(100, np.float32), 44100)
    sf.write(d/'x.wav', np.zeros(100, np.float32), 44100)
    (root/'train_curated.csv').write_text(f'fname,labels\na.wav,Bark\n{curated_extra}')
    (root/'sample_submission.csv').write_text(f'fname,Bark,Meow\nt.wav,0,0\n{test_extra}')
    return root

BAD = ['../../x.wav', '../x.wav', 'sub/x.wav', '..', '.', '../../etc/passwd', 'sub\\x.wav', '/ABS/x.wav']

def _fix(fname, tmp_path): return fname.replace('/ABS', str(tmp_path)) if fname.startswith('/ABS') else fname

@pytest.mark.parametrize('fname', BAD)
def test_curated_fname_outside_its_folder_is_a_csv_error(tmp_path, fname):
    fname = _fix(fname, tmp_path)
    root = _root(tmp_path, f'{fname},Meow\n')
    with pytest.raises(DataError) as e: load_dataset(root)
    msg = str(e.value)
    assert f"train_curated.csv row 3 ({fname!r})" in msg and 'plain file name' in msg, msg

@pytest.mark.parametrize('fname', ['../../x.wav', '/ABS/x.wav'])
def test_read_labels_csv_refuses_paths_without_audio_dir(tmp_path, fname):
    fname = _fix(fname, tmp_path)
    (tmp_path/'l.csv').write_text(f'fname,labels\na.wav,Bark\n{fname},Bark\n')
    with pytest.raises(DataError, match=r"l\.csv row 3 .*plain file name"): read_labels_csv(tmp_path/'l.csv')

def test_skip_mode_warns_per_row_and_keeps_the_rest(tmp_path):
    root = _root(tmp_path, '../../x.wav,Meow\nsub/x.wav,Bark\n')
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        ds = load_dataset(root, on_error='skip')
    assert ds.curated.fname.tolist() == ['a.wav']
    msgs = [str(o.message) for o in w]
    assert any("row 3 ('../../x.wav')" in m and 'plain file name' in m for m in msgs), msgs
    assert any("row 4 ('sub/x.wav')" in m for m in msgs), msgs
    assert len(ds.curated.attrs['skipped']) == 2

@pytest.mark.parametrize('fname', ['../x.wav', '../../x.wav', '/ABS/x.wav'])
def test_test_fname_outside_the_test_folder_is_a_csv_error(tmp_path, fname):
    fname = _fix(fname, tmp_path)
    root = _root(tmp_path, test_extra=f'{fname},0,0\n')
    with pytest.raises(DataError) as e: load_dataset(root)
    msg = str(e.value)
    assert f"sample_submission.csv row 3 ({fname!r})" in msg and 'plain file name' in msg, msg
