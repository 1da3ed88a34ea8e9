"Unusual audio files: each is handled as documented or recorded as an error naming the file; none stops a build or vanishes."
import warnings
from pathlib import Path
import numpy as np
import pytest
import soundfile as sf
from audiotag2019.spectrogram import SpecParams, AudioError, load_audio, librosa_melspec, melspec_batch
from audiotag2019.store import build_store, SpecStore

SR = 44100
rng = np.random.default_rng(0)
def noise(n, a=0.1): return (a*rng.standard_normal(n)).astype(np.float32)
def tone(n, sr=SR, f=440.): return (0.5*np.sin(2*np.pi*f*np.arange(n)/sr)).astype(np.float32)

@pytest.fixture
def bad(tmp_path):
    "One file of each kind."
    d = tmp_path/'audio'; d.mkdir()
    (d/'corrupt.wav').write_bytes(b'RIFF\x24\x00\x00\x00WAVEfmt ' + bytes(range(40)))
    (d/'empty.wav').write_bytes(b'')
    (d/'text.wav').write_text('this is not audio\n')
    sf.write(d/'zero_length.wav', np.zeros(0, np.float32), SR)
    sf.write(d/'silent.wav', np.zeros(3*SR, np.float32), SR)
    sf.write(d/'short.wav', noise(SR//10), SR)
    y = noise(SR); y[::1000] = np.nan; y[5::1000] = np.inf
    sf.write(d/'nan.wav', y, SR, subtype='FLOAT')
    sf.write(d/'8bit.wav', tone(SR), SR, subtype='PCM_U8')
    sf.write(d/'48k.wav', tone(48000, 48000), 48000)
    sf.write(d/'stereo.wav', np.stack([noise(SR), noise(SR)], 1), SR)
    sf.write(d/'ok.wav', noise(3*SR), SR)
    return d

@pytest.mark.parametrize('name', ['corrupt.wav', 'empty.wav', 'text.wav'])
def test_undecodable_raises_naming_file(bad, name):
    with pytest.raises(AudioError, match=name): load_audio(bad/name)

def test_zero_length(bad):
    y = load_audio(bad/'zero_length.wav')
    assert y.dtype == np.float32 and len(y) == 0
    im, = melspec_batch([y], device='cpu')
    assert im.shape == (128, 128) and im.max() == 0      # like silence: a 2 s image of zeros
    assert (librosa_melspec(y) == im).all()

def test_silent_is_zeros_not_nan(bad):
    y = load_audio(bad/'silent.wav')
    im, = melspec_batch([y], device='cpu')
    assert im.dtype == np.uint8 and im.shape == (128, 1 + 3*SR//694) and im.max() == 0
    assert (librosa_melspec(y) == im).all()

def test_very_short_is_padded(bad):
    y = load_audio(bad/'short.wav')
    assert len(y) == SR//10
    im, = melspec_batch([y], device='cpu')
    ref = librosa_melspec(y)
    assert im.shape == ref.shape == (128, 128)
    assert (np.abs(im.astype(int) - ref) <= 1).mean() >= 0.999

def test_nan_inf_zeroed_with_warning(bad):
    with pytest.warns(UserWarning, match=r'nan.wav: 90 NaN/inf samples set to 0'):
        y = load_audio(bad/'nan.wav')
    assert np.isfinite(y).all()
    im, = melspec_batch([y], device='cpu')
    ref = librosa_melspec(y)
    assert im.shape == ref.shape and (np.abs(im.astype(int) - ref) <= 1).mean() >= 0.999

def test_8bit(bad):
    y = load_audio(bad/'8bit.wav')
    assert y.dtype == np.float32 and np.abs(y - tone(SR)).max() < 0.01

def test_48k_resampled(bad):
    y = load_audio(bad/'48k.wav')
    assert len(y) == SR
    assert np.abs(y[2000:-2000] - tone(SR)[2000:-2000]).max() < 0.01
    y22 = load_audio(bad/'48k.wav', sr=22050)
    assert len(y22) == 22050

def test_stereo_mixed_down(bad):
    a = sf.read(bad/'stereo.wav', dtype='float32')[0]
    np.testing.assert_allclose(load_audio(bad/'stereo.wav'), a.mean(1), atol=1e-6)

def test_build_store_records_every_file(bad, tmp_path):
    files = sorted(bad.glob('*.wav'))
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        st = build_store(files, tmp_path/'store', progress=False, device='cpu')
    assert st.fnames == [f.name for f in files]                      # nothing vanished
    idx = st.index.set_index('fname')
    assert set(idx.index[idx.status == 'error']) == {'corrupt.wav', 'empty.wav', 'text.wav'}
    for n in ['corrupt.wav', 'empty.wav', 'text.wav']:
        assert n in idx.message[n] and idx.width[n] == 0 and st.get(n).shape == (128, 0)
    msg = ' '.join(str(o.message) for o in w)
    assert 'corrupt.wav' in msg and 'empty.wav' in msg and 'text.wav' in msg   # the run says which files failed
    assert idx.status['silent.wav'] == 'silent' and idx.status['zero_length.wav'] == 'silent'
    assert idx.message['zero_length.wav'] == 'no samples'
    assert idx.status['ok.wav'] == 'ok' and idx.status['short.wav'] == 'ok'
    assert 'resampled from 48000 Hz' in idx.message['48k.wav']
    assert 'mixed down from 2 channels' in idx.message['stereo.wav']
    assert '90 NaN/inf samples set to 0' in idx.message['nan.wav']
    assert abs(idx.duration['48k.wav'] - 1.0) < 1e-3 and idx.duration['zero_length.wav'] == 0
    for f in files:                                                   # every readable clip is the recipe's image
        if idx.status[f.name] == 'error': continue
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            ref = librosa_melspec(load_audio(f))
        im = st.get(f.name)
        assert im.shape == ref.shape and (np.abs(im.astype(int) - ref) <= 1).mean() >= 0.999, f.name
    # reopening the store from disk gives the same
    st2 = SpecStore(tmp_path/'store')
    assert st2.fnames == st.fnames and (st2.get('ok.wav') == st.get('ok.wav')).all()

def test_build_store_raise_names_file(bad, tmp_path):
    with pytest.raises(AudioError, match='corrupt.wav'):
        build_store([bad/'ok.wav', bad/'corrupt.wav'], tmp_path/'s', progress=False, on_error='raise', device='cpu')

def test_missing_file_recorded(bad, tmp_path):
    with pytest.warns(UserWarning, match='nowhere.wav'):
        st = build_store([bad/'ok.wav', bad/'nowhere.wav'], tmp_path/'s', progress=False, device='cpu')
    assert st.fnames == ['ok.wav', 'nowhere.wav'] and list(st.status) == ['ok', 'error']

def test_truncated_files_named_and_kept(bad, tmp_path):
    "A wav cut to its first 100 bytes or in the middle, a flac cut in the middle: stored as 'truncated', named in the warning."
    whole = (bad/'ok.wav').read_bytes()
    (bad/'cut100.wav').write_bytes(whole[:100])
    (bad/'cut_half.wav').write_bytes(whole[:len(whole)//2])
    sf.write(bad/'whole.flac', noise(3*SR), SR)
    fl = (bad/'whole.flac').read_bytes()
    (bad/'cut_half.flac').write_bytes(fl[:len(fl)//2])
    (bad/'header_only.wav').write_bytes(whole[:44])
    files = [bad/n for n in ('ok.wav', 'cut100.wav', 'cut_half.wav', 'cut_half.flac', 'header_only.wav')]
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        st = build_store(files, tmp_path/'s', progress=False, device='cpu')
    msg = ' '.join(str(o.message) for o in w)
    for n in ('cut100.wav', 'cut_half.wav', 'cut_half.flac', 'header_only.wav'): assert n in msg, n
    idx = st.index.set_index('fname')
    assert list(idx.status) == ['ok', 'truncated', 'truncated', 'truncated', 'error']
    assert idx.message['cut100.wav'] == f'truncated: 28 of the {3*SR} frames its header promises'
    assert 'truncated: the header promises' in idx.message['header_only.wav']
    assert st.get('cut_half.wav').shape[1] > 0 and st.get('cut_half.flac').max() > 0   # what is there is predicted
    assert st.counts() == {'ok': 1, 'handled': 3, 'failed': 1}
    assert 'header_only.wav' in st.summary() and '3 truncated' in st.summary()

def test_truncated_and_repaired_are_trainable(bad, tmp_path):
    "Only 'error' clips stop training: truncated and repaired clips have images and pass the data check."
    from audiotag2019.data import _check_ok
    (bad/'cut.wav').write_bytes((bad/'ok.wav').read_bytes()[:1000])
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        st = build_store([bad/'ok.wav', bad/'cut.wav', bad/'nan.wav', bad/'corrupt.wav'], tmp_path/'s', progress=False, device='cpu')
    assert list(st.status) == ['ok', 'truncated', 'repaired', 'error']
    _check_ok(st, np.array([0, 1, 2]), 'train_curated')
    with pytest.raises(Exception, match=r'corrupt\.wav') as e: _check_ok(st, np.array([0, 3]), 'train_curated')
    assert f'audiotag2019 errors {st.path}' in str(e.value)   # a command the user can run
    with pytest.warns(UserWarning, match=r'train_curated: corrupt\.wav failed to decode; left out of training'):
        keep = _check_ok(st, np.array([0, 3, 1]), 'train_curated', skip=True)   # --skip_bad: left out, each named
    assert keep.tolist() == [True, False, True]
