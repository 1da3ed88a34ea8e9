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
    stages = [l.split(' | ')[0][2:] for l in table[1:]]  # the header, then one row per stage (the |---| line is not a '| ' line)
    assert [s.split(' ')[0] for s in stages] == ['spectrograms', 'loaders', 'training', 'TTA', 'real', 'DDP:'], stages
    assert 'planned on cpu' in stages[4] and 'weights identical: yes' in table[-1], table  # the command's own device choice; DDP in step
    assert all(' 0 img/s' not in l and 'nan' not in l for l in table), table
