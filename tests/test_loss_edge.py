"Edge cases of `audiotag2019.loss` that read badly as documentation."
import numpy as np, pytest, torch
from types import SimpleNamespace
from sklearn.metrics import label_ranking_average_precision_score
from audiotag2019.loss import TagLoss, get_loss, lwlrap, lwlrap_per_class, LwLRAP, _check, _pair_precisions

def _case(n=257, c=17, seed=0):
    r = np.random.default_rng(seed)
    s = np.round(r.random((n, c)), 1)
    t = r.random((n, c)) < 0.2
    return s, t

def test_chunking_is_exact():
    s, t = _case()
    s_, t_ = _check(s, t)
    full = _pair_precisions(s_, t_, chunk=10**9)
    for chunk in (1, 17 * 17 * 3, 17 * 17 * 100):
        np.testing.assert_array_equal(_pair_precisions(s_, t_, chunk=chunk), full)

def test_low_precision_and_integer_inputs():
    s, t = _case(seed=1)
    ref = label_ranking_average_precision_score(t, s, sample_weight=t.sum(1))
    assert abs(lwlrap(torch.tensor(s, dtype=torch.float16), torch.tensor(t).to(torch.uint8)) - ref) < 1e-6  # 0.1 steps are exact enough in fp16
    assert abs(lwlrap(torch.tensor(s, dtype=torch.bfloat16), torch.tensor(t).float()) - lwlrap(torch.tensor(s, dtype=torch.bfloat16).float(), t)) < 1e-12
    assert abs(lwlrap(s.tolist(), t.astype(int).tolist()) - ref) < 1e-6

def test_nan_scores_rejected():
    s, t = _case()
    s[3, 4] = np.nan
    with pytest.raises(ValueError, match='NaN'): lwlrap(s, t)

def test_single_class_and_single_row():
    assert lwlrap(np.array([[0.3]]), np.array([[1]])) == 1.
    pc, w = lwlrap_per_class(np.array([[0.3, 0.3, 0.1]]), np.array([[0, 1, 0]]))
    assert (pc * w).sum() == 0.5

def test_metric_n_classes_too_large():
    met = LwLRAP(n_classes=10)
    with pytest.raises(ValueError, match='n_classes=10 but the model has 4 outputs'):
        met.accumulate(SimpleNamespace(pred=torch.zeros(2, 4), yb=(torch.zeros(2, 4),)))
    assert LwLRAP().value is None  # nothing accumulated

def test_loss_accepts_integer_targets_and_wrong_ndim():
    pred = torch.randn(4, 6)
    y = (torch.rand(4, 6) < 0.3)
    lf = get_loss('bce++')
    assert torch.allclose(lf(pred, y), lf(pred, y.float()))
    assert torch.allclose(lf(pred, y.to(torch.uint8), y.to(torch.uint8), torch.ones(4, 1)), lf(pred, y.float()))
    with pytest.raises(ValueError, match='expected \\(batch, classes\\) logits'): lf(pred[0], y[0].float())
    with pytest.raises(ValueError, match='gamma must be >= 0'): TagLoss(gamma=-1)

def test_focal_is_finite_for_extreme_logits():
    pred = torch.tensor([[100., -100., 0.], [-100., 100., 30.]], requires_grad=True)
    y = torch.tensor([[1., 0., 1.], [1., 0., 0.]])
    for name in ('bce', 'focal', 'bce++', 'focal++'):
        l = get_loss(name)(pred, y)
        l.backward()
        assert torch.isfinite(l) and torch.isfinite(pred.grad).all()
        pred.grad = None
