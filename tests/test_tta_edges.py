"Edge cases of `tta` that read badly as documentation: stores with unreadable clips, odd batch sizes, devices, dtypes."
import json, warnings
from dataclasses import asdict
from pathlib import Path
import numpy as np
import pandas as pd
import pytest
import torch
warnings.filterwarnings('ignore', message='.*torch.jit.script.*')
from audiotag2019.augment import N_FLIPS
from audiotag2019.model import get_model
from audiotag2019.spectrogram import SpecParams
from audiotag2019.store import SpecStore
from audiotag2019.tta import predict_specs, predict_store, slice_starts, slice_index, clip_slice

C = 4

@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    return get_model('xresnet10', n_out=N_FLIPS * C, width=0.25).eval()

def _specs(widths, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (128, w), dtype=np.uint8) for w in widths]

def _write_store(specs, fnames, out, status=None):
    out = Path(out); out.mkdir(parents=True, exist_ok=True)
    (out/'params.json').write_text(json.dumps({'params': asdict(SpecParams())}))
    offs = np.cumsum([0] + [s.size for s in specs])[:-1]
    pd.DataFrame(dict(fname=fnames, offset=offs, width=[s.shape[1] for s in specs], status=status or ['ok'] * len(specs),
                      duration=1., message='')).to_csv(out/'index.csv', index=False)
    (out/'spec.u8').write_bytes(b''.join(np.ascontiguousarray(s).tobytes() for s in specs))
    return SpecStore(out)

@pytest.mark.parametrize('k', [1, 2, 3, 7])
def test_slice_counts(k):
    assert len(slice_starts(128 * k)) == k
    assert len(slice_starts(128 * k + 1)) == k + 1
    assert len(slice_starts(128 * k - 1)) == k  # 128·(k−1) + 127
    s = slice_starts(128 * k + 1)
    assert s[-1] + 128 == 128 * k + 1  # the tail slice ends at W

def test_slices_cover_every_frame():
    for w in range(1, 700, 37):
        for tail in ('end', 'pad'):
            st = slice_starts(w, tail=tail)
            covered = np.zeros(w, bool)
            for s in st: covered[s:s + 128] = True
            assert covered.all(), (w, tail)
            if tail == 'pad': assert (np.diff(st) == 128).all()  # no overlap

def test_store_with_unreadable_clip(model, tmp_path):
    specs = _specs([200, 0, 300])  # width 0: what a store records for a clip it could not read
    store = _write_store(specs, ['a.wav', 'bad.wav', 'c.wav'], tmp_path, ['ok', 'error', 'ok'])
    tab = predict_store(model, store, [f'c{i}' for i in range(C)], size=128, progress=False)
    assert tab.fname.tolist() == ['a.wav', 'bad.wav', 'c.wav']
    v = tab.drop(columns='fname').to_numpy()
    assert np.isfinite(v).all() and ((v >= 0) & (v <= 1)).all()
    # the other clips are unaffected by their neighbour
    alone = predict_specs(model, [specs[0], specs[2]], C, size=128, progress=False)
    np.testing.assert_allclose(v[[0, 2]], alone, atol=1e-5)

@pytest.mark.parametrize('bs', [1, 2, 3, 1000])
def test_batch_size_does_not_matter(model, bs):
    specs = _specs([129, 50, 640, 256, 383])
    want = predict_specs(model, specs, C, size=128, bs=64, progress=False)
    got = predict_specs(model, specs, C, size=128, bs=bs, progress=False)
    np.testing.assert_allclose(got, want, atol=1e-5)

def test_clip_order_does_not_matter(model):
    specs = _specs([129, 50, 640, 256, 383], seed=1)
    p = predict_specs(model, specs, C, size=128, bs=4, progress=False)
    q = predict_specs(model, specs[::-1], C, size=128, bs=4, progress=False)
    np.testing.assert_allclose(p, q[::-1], atol=1e-5)

def test_read_only_views_and_other_n_mels(model):
    spec = _specs([300])[0]; spec.setflags(write=False)  # store views are read-only
    assert predict_specs(model, [spec], C, size=128, progress=False).shape == (1, C)
    # a 64-band spectrogram: slices are 64×128, resized to the model's square input
    sp64 = np.random.default_rng(0).integers(0, 256, (64, 300), dtype=np.uint8)
    assert clip_slice(sp64, 0).shape == (64, 128)
    assert predict_specs(model, [sp64], C, size=128, progress=False).shape == (1, C)

def test_slice_index_empty():
    c, s = slice_index([])
    assert len(c) == 0 and len(s) == 0

def test_pad_tail_differs_from_end(model):
    specs = _specs([129])
    a = predict_specs(model, specs, C, size=128, tail='end', progress=False)
    b = predict_specs(model, specs, C, size=128, tail='pad', progress=False)
    assert np.abs(a - b).max() > 0

def test_mean_counts_each_slice(model):
    specs = _specs([256])
    with torch.no_grad():
        x = (torch.from_numpy(np.stack([specs[0][:, :128], specs[0][:, 128:]])).float()[:, None] / 255 - 0.2932) / 0.2556
        want = torch.sigmoid(model(x)[:, :C]).mean(0).numpy()
    np.testing.assert_allclose(predict_specs(model, specs, C, size=128, reduce='mean', flips=False, progress=False)[0], want, atol=1e-5)

@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a GPU')
def test_cuda_matches_cpu(model):
    specs = _specs([129, 50, 640])
    cpu = predict_specs(model, specs, C, size=128, progress=False)
    gpu = predict_specs(model.cuda(), specs, C, size=128, progress=False)
    model.cpu()
    np.testing.assert_allclose(gpu, cpu, atol=1e-4)
