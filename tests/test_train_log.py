"What `audiotag2019 train` writes into a log file (stdout not a terminal): the plan, one line per epoch, the time taken; no bar redraws."
import re, subprocess, sys
from pathlib import Path
from audiotag2019.demo import demo_dataset

def _train(tmp_path, *args):
    cmd = [sys.executable, '-c', 'from audiotag2019.cli import main; main()', 'train', str(demo_dataset('tiny')), str(tmp_path/'run'),
           '--specs', str(tmp_path/'specs'), '--size', '64', *args]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    return r

def test_budgeted_run_logs_plan_epochs_and_time(tmp_path):
    r = _train(tmp_path, '--preset', 'cpu_demo', '--budget', '0.5')
    lines = r.stdout.splitlines()
    plan = [l for l in lines if l.startswith('plan: ')]
    assert len(plan) == 1 and 'xresnet10 width 0.5' in plan[0] and 'expected' in plan[0], r.stdout
    epochs = [l for l in lines if re.match(r'epoch \d+/\d+  train_loss ', l)]
    n = int(re.search(r'× (\d+) epochs', plan[0]).group(1))
    replanned = [l for l in lines if l.startswith('re-planned: ')]  # a pace over 2x off the measured one (a loaded machine) re-plans once
    if replanned: n = int(re.search(r': (\d+) epochs instead of', replanned[-1]).group(1))
    stopped = 'the time budget ran out' in r.stderr  # the deadline came first: fewer epoch lines, said so
    assert (len(epochs) == n or stopped and len(epochs) < n) and all(' ETA ' in l and ' job ' in l for l in epochs), r.stdout + r.stderr
    assert any(l.startswith('job done in ') for l in lines), r.stdout
    assert '\r' not in r.stdout and '█' not in r.stdout  # no progress-bar redraws in a log
    assert len(r.stdout) < 200 * (len(epochs) + 10)

def test_quiet_run_still_prints_one_line_per_epoch(tmp_path):
    r = _train(tmp_path, '--preset', 'cpu_demo', '--epochs', '2', '--n_batches', '2', '--quiet')
    assert [l.split('  ')[0] for l in r.stdout.splitlines() if l.startswith('epoch ')] == ['epoch 1/2', 'epoch 2/2'], r.stdout
    assert '\r' not in r.stdout
