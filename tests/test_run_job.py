"`audiotag2019 run`, as a user types it: the whole method on a dataset root within a time budget, and an interrupted job resumed."
import json, os, re, signal, subprocess, sys, time
from pathlib import Path
import pandas as pd
import pytest
from audiotag2019.demo import demo_dataset

CMD = [sys.executable, '-m', 'audiotag2019.cli']

def _run(*args, **kw):
    return subprocess.run([*CMD, *map(str, args)], capture_output=True, text=True, **kw)

def _valid_submission(root, out):
    sub, sample = pd.read_csv(out/'submission.csv'), pd.read_csv(root/'sample_submission.csv')
    assert list(sub.columns) == list(sample.columns) and list(sub.fname) == list(sample.fname)
    assert sub.iloc[:, 1:].to_numpy().min() >= 0 and sub.iloc[:, 1:].to_numpy().max() <= 1

def test_run_help_lists_the_switches():
    r = _run('run', '-h')
    assert r.returncode == 0, r.stderr
    for opt in ('--budget', '--preset', '--folds', '--noisy_loss', '--flips', '--with_curated', '--relabel', '--device', '--resume'): assert opt in r.stdout, opt

def test_run_with_a_budget_writes_a_valid_submission_in_time(tmp_path):
    root, out = demo_dataset('tiny'), tmp_path/'job'
    r = _run('run', root, out, '--budget', 2, '--folds', 2, '--quiet', cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    _valid_submission(root, out)
    s = json.loads((out/'summary.json').read_text())
    log = r.stdout.splitlines()
    plan = [l for l in log if l.startswith('plan: ')]
    assert len(plan) == 1 and ' on cpu ' in plan[0], log  # one plan for the job, naming the device
    cut = plan[0].endswith('; cut to one model from 2 folds: 2 did not fit 4 epochs each')  # a loaded machine may fit one model
    assert s['budget_min'] == 2 and s['n_models'] == (1 if cut else 2) and 0 <= s['test_lwlrap'] <= 1, (s, plan)
    assert sum(l.startswith('epoch ') for l in log) >= (2 if cut else 3) * 4, log  # one line per epoch: the curated model + each final one, ≥ 4 epochs each
    assert float(re.search(r'expected ([\d.]+) of 2 min', plan[0]).group(1)) <= 2, plan  # the plan fits the budget (timing goals: scripts/budget_table.py)
    runs, kept = out/'runs', pd.read_csv(out/'runs'/'noisy_kept.csv').fname.tolist()
    finals = [runs/'curated+noisy'] if cut else [runs/'folds'/'fold0', runs/'folds'/'fold1']
    for i, d in enumerate(finals):  # each final model trained on its own fold, with the kept noisy clips, not on the budget's plan of the job
        c = json.loads((d/'config.json').read_text())['config']
        assert c['noisy_fnames'] == kept and (cut or (c['fold'], c['n_folds']) == (i, 2)), (d, c['fold'], c['n_folds'], c['noisy_fnames'], kept)
        assert c['flips'] is False, d  # the CPU recipe, as the command chose it: no flips as labels (C outputs)
    assert 'flip averaging' not in r.stdout, log
    if not cut:  # two folds: two different sets of held-out clips
        v0, v1 = (set(pd.read_csv(d/'valid_preds.csv').fname) for d in finals)
        assert v0 and v1 and not v0 & v1, (len(v0), len(v1))

def test_run_flips_option_reaches_every_model(tmp_path):
    "`--flips` overrides the preset's: `cpu_demo` trains with flips as labels, `--flips false` without, down to the test predictions."
    root, out = demo_dataset('tiny'), tmp_path/'job'
    r = _run('run', root, out, '--preset', 'cpu_demo', '--epochs', 1, '--folds', 2, '--noisy', 'false', '--flips', 'false', '--quiet', cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    _valid_submission(root, out)
    for f in ('fold0', 'fold1'):
        meta = json.loads((out/'runs'/'folds'/f/'config.json').read_text())
        assert meta['config']['flips'] is False and meta['config']['arch'] == 'xresnet10', meta['config']  # cpu_demo's model, its flips off
    assert 'slice-max TTA (' in r.stdout and 'flip averaging' not in r.stdout, r.stdout
    bad = _run('run', root, tmp_path/'bad', '--flips', 'maybe', cwd=tmp_path)
    assert bad.returncode != 0 and '--flips must be true or false' in bad.stdout + bad.stderr, bad.stdout + bad.stderr

def test_run_killed_then_resumed(tmp_path):
    root, out = demo_dataset('tiny'), tmp_path/'job'
    args = ['run', root, out, '--folds', 2, '--preset', 'cpu_demo', '--epochs', 3, '--quiet']
    p = subprocess.Popen([*CMD, *map(str, args)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path)
    try:  # killed once the curated model is finished and the first fold has a checkpoint
        for _ in range(600):
            if (out/'runs'/'folds'/'fold0'/'models'/'last.pth').exists() or p.poll() is not None: break
            time.sleep(0.5)
    finally: p.send_signal(signal.SIGKILL); p.wait()
    assert (out/'runs'/'curated'/'state.json').exists() and not (out/'submission.csv').exists()
    kept = (out/'runs'/'noisy_kept.csv').read_bytes()
    curated = (out/'runs'/'curated'/'models'/'last.pth').stat().st_mtime_ns
    r = _run(*args, '--resume', cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    _valid_submission(root, out)
    assert (out/'runs'/'curated'/'models'/'last.pth').stat().st_mtime_ns == curated  # the finished stage was kept, not retrained
    assert (out/'runs'/'noisy_kept.csv').read_bytes() == kept
    hist = pd.read_csv(out/'runs'/'folds'/'fold0'/'history.csv')
    assert list(hist.epoch) == [0, 1, 2]  # the interrupted fold resumed: each epoch once
