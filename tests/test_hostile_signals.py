"SIGTERM — what Kaggle and job schedulers send at a time limit — ends a training command like Ctrl-C: one line, exit status 143, and a run that `--resume` finishes."
import os, signal, subprocess, sys, textwrap, time
from pathlib import Path
import pandas as pd
import pytest
from audiotag2019.demo import demo_dataset
from audiotag2019.learner import open_data
from audiotag2019.cli import run_command

# the command as a user starts it, with each batch slowed so that the signal lands mid-training, after the first epoch's files
SLOWED = '''
import sys, time
from pathlib import Path
import audiotag2019.core  # first, as the command imports it: its warning filters
from fastai.learner import Learner
_one, flag = Learner.one_batch, Path(sys.argv[1])
def one_batch(self, i, b):
    if self.epoch >= 1: flag.write_text('second epoch')
    time.sleep(0.3); return _one(self, i, b)
Learner.one_batch = one_batch
sys.argv = ['audiotag2019', *sys.argv[2:]]
from audiotag2019.cli import main
main()
'''

@pytest.fixture(scope='module')
def specs(tmp_path_factory):
    d = tmp_path_factory.mktemp('specs')
    open_data(demo_dataset('tiny'), specs=d)
    return d

def test_sigterm_is_one_line_and_the_run_resumes(specs, tmp_path):
    root, run, flag = demo_dataset('tiny'), tmp_path/'run', tmp_path/'started'
    (tmp_path/'slowed.py').write_text(textwrap.dedent(SLOWED))
    args = ['train', str(root), str(run), '--specs', str(specs), '--preset', 'cpu_demo', '--size', '64', '--bs', '16',
            '--epochs', '4', '--n_batches', '2', '--quiet']
    p = subprocess.Popen([sys.executable, str(tmp_path/'slowed.py'), str(flag), *args], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True, env={**os.environ, 'OMP_NUM_THREADS': '1'})
    try:
        t0 = time.time()
        while not flag.exists() and p.poll() is None and time.time() - t0 < 600: time.sleep(0.1)
        assert flag.exists(), p.stderr.read()
        p.send_signal(signal.SIGTERM)
        err = p.communicate(timeout=120)[1]
    finally:
        if p.poll() is None: p.kill()
    assert p.returncode == 143, (p.returncode, err)
    lines = [l for l in err.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith('audiotag2019: error: terminated (SIGTERM)') and '--resume' in lines[0], err
    done = len(pd.read_csv(run/'history.csv'))
    assert 1 <= done < 4, done  # stopped inside the job, after its first epoch's files
    r = run_command(args + ['--resume'])  # what the message says to do
    assert len(pd.read_csv(run/'history.csv')) == 4 and (run/'models'/'last.pth').exists()
    assert r.history.shape[0] == 4
