"The GPU check script runs end to end in its dry mode (tiny sizes, CPU) and prints its table; on a GPU the same script times the real sizes."
import os, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def test_gpu_check_dry_run():
    r = subprocess.run(['bash', str(ROOT/'scripts'/'gpu_check.sh'), '--dry'], capture_output=True, text=True, timeout=900,
                       env={**os.environ, 'PYTHON': sys.executable}, cwd=ROOT)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    table = [l for l in r.stdout.splitlines() if l.startswith('| ')]
    assert table[0].startswith('| stage on CPU | rate |'), r.stdout
    gc = table[:7]  # gpu_check.py's table: the header and six stages
    stages = [l.split(' | ')[0][2:] for l in gc[1:]]  # the header, then one row per stage (the |---| line is not a '| ' line)
    assert [s.split(' ')[0] for s in stages] == ['spectrograms', 'loaders', 'training', 'TTA', 'real', 'DDP:'], stages
    assert 'planned on cpu' in stages[4] and 'weights identical: yes' in gc[-1], gc  # the command's own device choice; DDP in step
    assert all(' 0 img/s' not in l and 'nan' not in l for l in gc), gc
    # then scripts/bench_job.py: the job against its step, and the stage's epochs by phase
    ways = [l.split(' | ')[0][2:] for l in table if l.startswith('| (')]
    assert ways[:4] == ['(a) raw step', '(b) learner step', '(c) stage epochs', '(c) stage call'], ways
    phases = [l.split(' | ')[0][2:] for l in table if l.split(' | ')[0][2:] in ('forward', 'backward', 'optimizer step', 'validation')]
    assert phases == ['forward', 'backward', 'optimizer step', 'validation'], table
