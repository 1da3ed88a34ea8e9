"""A time budget planned at a busy moment corrects itself: the speed measurement does not take a burst of load for the
machine's pace, a stage whose first epoch runs far faster (or slower) than planned re-plans its epochs, the next stage is
planned on the pace seen, and absurd budgets are refused."""
import contextlib, io, json, math, re, time, warnings
from dataclasses import replace
import pytest
warnings.filterwarnings('ignore')
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

def test_measurement_outlasts_a_burst_of_load():
    "Five of the first eight timed batches slowed by a burst of load (batch times given, nothing waited for): the measurement goes on until eight in a row agree, and its pace is the machine's."
    t = B._SteadyTimer(skip=2, n=8, max_s=5.)
    t.steps = [1.0, 1.0] + [0.1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.1, 0.1]
    assert B._steady(t.steps[2:], 8) is None  # the burst is in the window: not yet
    for i in range(5):
        t.steps.append(0.1)
        assert B._steady(t.steps[2:], 8) is None  # the burst's last batch is still among the last eight
    t.steps.append(0.11)
    assert B._steady(t.steps[2:], 8) is not None and t.pace() == pytest.approx(0.1)

def test_stage_replans_its_epochs_after_a_busy_measurement(data, tmp_path, monkeypatch):
    "A measurement taken at a busy moment says 10 s per batch; the batches run far faster: the stage re-plans, says so, and saves the plan it ran (the epochs a re-plan picks at a given pace: the fake-clock test in `07c_budget`)."
    busy = Speed(step_s=10.0, infer_img_s=500., setup_s=0.5, train_items=4 * 120, valid_items=120)  # given, not timed: no load can change it
    monkeypatch.setattr(B, 'measure_speed', lambda cfg, data, **kw: busy)
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf): r = train(TINY.replace(budget=1, epochs=99, n_batches=None), data, tmp_path/'run', progress='lines', plots=False)
    log = buf.getvalue()
    plan = int(re.search(r'× (\d+) epochs', log).group(1))
    assert plan == MIN_EPOCHS, log  # the busy plan
    m = re.search(r're-planned: measured ([\d.]+) s per batch, not 10.00 s: ', log)
    assert m and float(m.group(1)) < 5, log
    state = json.loads((tmp_path/'run'/'state.json').read_text())
    stopped = state['epochs_done'] < state['n_epoch']  # a machine loaded enough may reach the deadline first: said, and resumable
    assert len(r.history) == state['n_epoch'] or stopped, (state, log)
    assert r.cfg.epochs == state['n_epoch']  # config.json holds the plan that ran: resume continues it
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

def _slow(monkeypatch, step_s):
    "Every measurement says `step_s` seconds per batch (given, not timed)."
    monkeypatch.setattr(B, 'measure_speed', lambda cfg, data, **kw: Speed(step_s=step_s, infer_img_s=500., setup_s=0.5, train_items=4 * 120, valid_items=30))

def test_job_cuts_folds_to_fit_its_budget(tmp_path, monkeypatch):
    "A pace at which a curated model and 3 folds do not fit in 2 minutes, but a curated model and one final model do: the job cuts to one model, says so in its plan line, and finishes."
    import audiotag2019.job as J
    from audiotag2019.job import run_job
    said = []
    monkeypatch.setattr(J, 'say', said.append)
    _slow(monkeypatch, 9.5)
    s = run_job(demo_dataset('tiny'), tmp_path/'job', budget=2, specs=tmp_path/'specs', progress='lines')
    plan = [l for l in said if l.startswith('plan: ')]
    assert len(plan) == 1 and plan[0].endswith(f'; cut to one model from 3 folds: 3 did not fit {MIN_EPOCHS} epochs each'), said
    assert s['n_models'] == 1 and (tmp_path/'job'/'submission.csv').exists()

def test_job_cuts_folds_before_epochs(tmp_path, monkeypatch):
    "Minutes in which 3 folds would get fewer than MIN_EPOCHS epochs each (each epoch's validation and checkpoints fit few times), but one model gets more: fewer folds first, then epochs."
    from audiotag2019.job import _fit_budget
    data = open_data(demo_dataset('tiny'), specs=tmp_path/'specs')
    _slow(monkeypatch, 0.2)
    for budget, want in ((2., 3), (1., 1)):
        said = []
        job, folds = _fit_budget(TINY.replace(budget=budget), *data, tmp_path/f'runs{budget}', True, 3, False, time.time(), 'cpu', said.append)
        assert (folds, job.stages) == (want, 1 + want) and job.epochs >= MIN_EPOCHS, (budget, folds, job.epochs, said)
        assert said[-1].endswith(f'; cut to one model from 3 folds: 3 did not fit {MIN_EPOCHS} epochs each') == (want == 1), said

def test_job_refuses_before_any_work_when_one_batch_does_not_fit(tmp_path, monkeypatch):
    _slow(monkeypatch, 1000.)
    from audiotag2019.job import run_job
    with pytest.raises(B.BudgetTooShort, match=r'the time budget is too short: [\d.]+ s for a stage that needs at least [\d.]+ s \(') as e:
        run_job(demo_dataset('tiny'), tmp_path/'job', budget=2, specs=tmp_path/'specs', progress=False)
    assert e.value.need_s > e.value.have_s
    assert not (tmp_path/'job'/'runs').exists()  # nothing trained
