"Edge cases of audiotag2019.augment that read badly as documentation."
import ast, random
from pathlib import Path
import numpy as np, pytest, torch
from fastai.data.transforms import Pipeline
from fastai.torch_core import TensorImage, set_seed
from audiotag2019.augment import (spec_window, spec_item, flip_targets, flip_blocks_to_classes, flip_batch,
                                  batch_tfms, SpecBars, WINDOW)

def test_imports_only_upstream():
    src = Path(__file__).resolve().parents[1]/'audiotag2019'/'augment.py'
    mods = {n.module for n in ast.walk(ast.parse(src.read_text())) if isinstance(n, ast.ImportFrom) and n.module}
    assert not any(m.startswith(('audiotag2019.', '.')) and m.split('.')[-1] not in ('core',) for m in mods), mods

@pytest.mark.parametrize('w', [1, 2, 127, 128, 129, 1000])
def test_window_any_width(w):
    spec = np.random.default_rng(w).integers(1, 256, (128, w), dtype=np.uint8)
    for at in ('random', 'start', 'center', 'end'):
        out = spec_window(spec, at=at, rng=random.Random(0))
        assert out.shape == (128, WINDOW) and out.dtype == np.uint8
        assert (out > 0).sum() == 128 * min(w, WINDOW)  # the clip's frames, plus zero padding when short

def test_window_other_heights_and_sizes():
    spec = np.zeros((64, 300), np.uint8)
    assert spec_window(spec, size=100).shape == (64, 100)
    x, y = spec_item(spec, np.zeros(5), flip_id=3, size=100)
    assert x.shape == (1, 64, 100) and y.shape == (20,) and y.sum() == 0

def test_seeded_pipeline_is_reproducible():
    xu = TensorImage(torch.randint(0, 256, (8, 1, 128, 128), dtype=torch.uint8))
    outs = []
    for _ in range(2):
        set_seed(42)
        p = Pipeline(batch_tfms(size=64)); p.split_idx = 0
        outs.append(p(xu.clone()))
    assert torch.equal(outs[0], outs[1])

def test_empty_and_single_batches():
    p = Pipeline(batch_tfms(size=64)); p.split_idx = 0
    assert p(TensorImage(torch.zeros(1, 1, 128, 128, dtype=torch.uint8))).shape == (1, 1, 64, 64)
    assert flip_batch(torch.zeros(0, 1, 4, 4), torch.zeros(0)).shape == (0, 1, 4, 4)
    assert SpecBars(p=1.)(TensorImage(torch.ones(0, 1, 8, 8)), split_idx=0).shape == (0, 1, 8, 8)

def test_flip_targets_bad_shapes():
    with pytest.raises(ValueError, match=r'must be \(C,\) or \(B, C\)'): flip_targets(np.zeros((2, 2, 3)), 0, 3)
    with pytest.raises(ValueError, match='flip id must be'): flip_targets(np.zeros(3), -1, 3)
    with pytest.raises(ValueError, match='per-row flip ids'): flip_blocks_to_classes(torch.zeros(3, 12), 3, [0, 1])
