"Edge cases of `audiotag2019.model`: checkpoints of a model with a spectrally normalised SSA layer."
import io, copy, pickle
import torch
from audiotag2019.model import get_model, ssa_layers

def test_state_dict_roundtrip_keeps_outputs():
    torch.manual_seed(0)
    m = get_model('xresnet10', width=0.25)
    m.train(); m(torch.randn(4, 1, 64, 64))  # one training step of spectral norm's power iteration
    with torch.no_grad(): ssa_layers(m)[0].gamma.fill_(0.3)
    buf = io.BytesIO(); torch.save(m.state_dict(), buf); buf.seek(0)
    m2 = get_model('xresnet10', width=0.25)
    m2.load_state_dict(torch.load(buf))
    x = torch.randn(2, 1, 64, 96)
    m.eval(); m2.eval()
    with torch.no_grad(): assert torch.allclose(m(x), m2(x), atol=1e-6)

def test_state_dicts_differ_by_sa():
    k_on = set(get_model('xresnet10', width=0.25, sa=True).state_dict())
    k_off = set(get_model('xresnet10', width=0.25, sa=False).state_dict())
    extra = k_on - k_off
    assert k_off < k_on and all('gamma' in k or '.conv.' in k for k in extra), extra

def test_deepcopy_and_pickle():
    m = get_model('xresnet10', width=0.25).eval()
    x = torch.randn(1, 1, 64, 64)
    for m2 in (copy.deepcopy(m), pickle.loads(pickle.dumps(m))):
        with torch.no_grad(): assert torch.allclose(m(x), m2.eval()(x))

def test_tiny_inputs():
    "The smallest input that survives the five stride-2 steps still gives one output per sample."
    m = get_model('xresnet10', width=0.25).eval()
    with torch.no_grad():
        assert m(torch.randn(2, 1, 32, 32)).shape == (2, 320)
        assert m(torch.randn(2, 1, 128, 1)).shape == (2, 320)
