"""A time budget planned at a busy moment corrects itself: the speed measurement does not take a burst of load for the
machine's pace, a stage whose first epoch runs far faster (or slower) than planned re-plans its epochs, the next stage is
planned on the pace seen, and absurd budgets are refused."""
import contextlib, io, json, math, re, time, warnings
from dataclasses import replace
import pytest
warnings.filterwarnings('ignore')
from fastai.callback.core import Callback
import audiotag2019.budget as B
from audiotag2019.budget import Budget, Speed, measure_speed, MIN_EPOCHS
from audiotag2019.config import TrainConfig
from audiotag2019.demo import demo_dataset
from audiotag2019.learner import open_data
from audiotag2019.train import train

TINY = TrainConfig.cpu_demo(size=64, bs=16)

@pytest.fixture(scope='module')
def data(tmp_path_factory): return open_data(demo_dataset('tiny'), specs=tmp_path_factory.mktemp('specs'))

@pytest.mark.parametrize('minutes', [float('inf'), float('nan'), 1e6, 10_081])
def test_absurd_budget_is_refused(minutes):
    with pytest.raises(ValueError, match='budget must be'): TrainConfig(budget=minutes).check()
    if not math.isnan(minutes): 
        with pytest.raises(ValueError, match='at most 10080 minutes'): TrainConfig(budget=minutes).check()

def test_a_week_is_allowed(): TrainConfig(budget=10_080).check()

class Busy(Callback):
    "The machine is busy for the first timed batches of a measurement: each takes `s` seconds longer."
    def __init__(self, skip, n, s): self.skip, self.n, self.s, self.i = skip, n, s, 0
    def before_batch(self):
        if not self.training: return
        self.i += 1
        if self.skip < self.i <= self.skip + self.n: time.sleep(self.s)

def test_measurement_outlasts_a_burst_of_load(data, monkeypatch):
    "Five of the first eight timed batches slowed by 0.4 s: the measured pace is the machine's, not the burst's."
    quiet = measure_speed(TINY, data, device='cpu').step_s
    real = B.run_callbacks
    monkeypatch.setattr(B, 'run_callbacks', lambda c: real(c) + [Busy(2, 5, 0.4)])
    busy = measure_speed(TINY, data, device='cpu').step_s
    assert busy < max(3 * quiet, quiet + 0.15), (busy, quiet)

def _slow_measurement(monkeypatch, factor):
    real = B.measure_speed
    def measure(*a, **kw):
        s = real(*a, **kw)
        return replace(s, step_s=s.step_s * factor)
    monkeypatch.setattr(B, 'measure_speed', measure)

def test_stage_replans_its_epochs_after_a_busy_measurement(data, tmp_path, monkeypatch):
    "The measurement says 25× slower than the machine runs: after the first epoch the stage re-plans to more epochs, and says so."
    _slow_measurement(monkeypatch, 25)
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf): r = train(TINY.replace(budget=1, epochs=99, n_batches=None), data, tmp_path/'run', progress='lines', plots=False)
    log = buf.getvalue()
    plan = int(re.search(r'× (\d+) epochs', log).group(1))
    assert plan == MIN_EPOCHS, log  # the busy plan
    m = re.search(r're-planned: measured ([\d.]+) s per batch, not ([\d.]+) s: (\d+) epochs instead of (\d+)', log)
    assert m and int(m.group(3)) > plan and int(m.group(4)) == plan, log
    state = json.loads((tmp_path/'run'/'state.json').read_text())
    assert state['n_epoch'] == int(m.group(3)) == len(r.history), (state, log)
    assert r.finished and r.cfg.epochs == state['n_epoch']  # config.json holds the plan that ran: resume continues it
    assert json.loads((tmp_path/'run'/'config.json').read_text())['config']['epochs'] == state['n_epoch']

def test_next_stage_is_planned_on_the_pace_seen(data, monkeypatch):
    "Between stages (folds; curated, then curated + noisy) the epochs are re-planned when the pace seen is over 2× off the plan's."
    monkeypatch.setattr(B, 'measure_speed', lambda cfg, data, **kw: Speed(step_s=2.0, infer_img_s=500., setup_s=0.5, train_items=4000, valid_items=20))
    said = []
    job = Budget(TINY.replace(budget=25), data, stages=2, device='cpu', say=said.append)
    assert job.epochs == MIN_EPOCHS, said
    cfg, (pacer,) = job.next_stage()
    pacer.steps = [0.08] * 50  # what the first stage ran at
    job.observe()
    cfg2, _ = job.next_stage()
    assert cfg2.epochs > 2 * MIN_EPOCHS, (cfg2.epochs, said)
    assert any(s.startswith('re-planned: measured 0.08 s per batch, not 2.00 s: ') for s in said), said
