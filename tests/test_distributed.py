"""Training in 2 processes on the CPU (torch DDP over gloo), launched as the README says: `torchrun --nproc_per_node 2 -m
audiotag2019.cli train …` and `accelerate launch --multi_gpu --num_processes 2 -m audiotag2019.cli train …` (accelerate's torch.distributed launcher;
with no GPU the processes use gloo — its `--cpu` route spreads processes only through MPI's mpirun).

Checked: each process trained on its own half of every epoch (disjoint, together the whole epoch), the run folder holds
one set of checkpoints and one history, the final weights are identical in both processes, and an interrupted
2-process run resumes where it stopped."""
import json, os, shutil, subprocess, sys, textwrap
from pathlib import Path
import pandas as pd
import pytest
from audiotag2019.demo import demo_dataset

BIN = Path(sys.executable).parent
ARGS = ['--preset', 'cpu_demo', '--size', '64', '--bs', '16', '--n_batches', '0', '--epochs', '2', '--quiet']  # n_batches 0: one pass per epoch

def _env(tmp_path):
    return {**os.environ, 'OMP_NUM_THREADS': '1', 'AUDIOTAG2019_RANK_LOG': str(tmp_path/'ranks')}

def _run(cmd, env, timeout=600):
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-5000:]
    return r

def _free_port():
    "A free TCP port: tests run side by side (pytest-xdist), each launch needs its own rendezvous port."
    import socket
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def _ranks(tmp_path):
    return [json.loads((tmp_path/'ranks'/f'rank{r}.json').read_text()) for r in (0, 1)]

def _check_two_processes(tmp_path, run):
    r0, r1 = _ranks(tmp_path)
    assert r0['world'] == r1['world'] == 2
    assert r0['weights_md5'] == r1['weights_md5']  # DDP kept the replicas identical
    assert len(r0['items']) == len(r1['items']) == 2
    n_items = json.loads((run/'config.json').read_text())['meta']['n_train'] * 4  # clips × 4 flips
    for e0, e1 in zip(r0['items'], r1['items']):
        assert len(e0) == len(e1) == n_items // 2
        assert not set(e0) & set(e1)  # disjoint halves ...
        assert set(e0) | set(e1) == set(range(n_items))  # ... of the whole epoch
    assert sorted(p.name for p in (run/'models').iterdir()) == ['best.pth', 'last.pth', 'last_rng.pth']
    h = pd.read_csv(run/'history.csv')
    assert list(h.epoch) == [0, 1]  # one history, written once (no second header, no duplicated rows)

def test_torchrun_two_processes(tmp_path):
    root = demo_dataset('tiny')
    run = tmp_path/'run'
    r = _run([str(BIN/'torchrun'), '--standalone', '--nproc_per_node', '2', '-m', 'audiotag2019.cli', 'train', str(root), str(run),
              '--specs', str(tmp_path/'specs'), *ARGS], _env(tmp_path))
    _check_two_processes(tmp_path, run)
    assert r.stdout.count('TrainResult(') == 1 and r.stdout.count('epoch 2/2') == 1, r.stdout  # rank 0 speaks alone

def test_accelerate_launch_two_processes(tmp_path):
    root = demo_dataset('tiny')
    run = tmp_path/'run'
    env = {**_env(tmp_path), 'HF_HOME': str(tmp_path/'hf')}  # no accelerate config needed
    _run([str(BIN/'accelerate'), 'launch', '--multi_gpu', '--num_processes', '2', '--main_process_port', str(_free_port()), '--num_machines', '1', '--mixed_precision', 'no',
          '--dynamo_backend', 'no', '-m', 'audiotag2019.cli', 'train', str(root), str(run), '--specs', str(tmp_path/'specs'), *ARGS], env)
    _check_two_processes(tmp_path, run)

SCRIPT = '''
from fastai.callback.core import Callback, CancelFitException
from audiotag2019.config import TrainConfig
from audiotag2019.train import train
class StopAfter(Callback):
    order = 100
    def after_epoch(self):
        if self.epoch + 1 >= 1: raise CancelFitException
cfg = TrainConfig.cpu_demo(size=64, bs=16, epochs=2, n_batches=None)
import sys
train(cfg, sys.argv[1], sys.argv[2], specs=sys.argv[3], progress=False, resume=sys.argv[4] == 'resume', cbs=[] if sys.argv[4] == 'resume' else [StopAfter()])
'''

def test_two_process_run_resumes(tmp_path):
    root = demo_dataset('tiny')
    (tmp_path/'job.py').write_text(textwrap.dedent(SCRIPT))
    run, env = tmp_path/'run', _env(tmp_path)
    def launch(mode):
        _run([str(BIN/'torchrun'), '--standalone', '--nproc_per_node', '2', str(tmp_path/'job.py'), str(root), str(run), str(tmp_path/'specs'), mode], env)
    launch('stop')
    state = json.loads((run/'state.json').read_text())
    assert (state['epochs_done'], state['finished']) == (1, False)
    shutil.rmtree(tmp_path/'ranks')
    launch('resume')
    state = json.loads((run/'state.json').read_text())
    assert (state['epochs_done'], state['finished']) == (2, True)
    assert list(pd.read_csv(run/'history.csv').epoch) == [0, 1]
    r0, r1 = _ranks(tmp_path)
    assert r0['weights_md5'] == r1['weights_md5'] and len(r0['items']) == 1  # the resumed run trained the second epoch only
    assert not set(r0['items'][0]) & set(r1['items'][0])

def test_budget_in_two_processes(tmp_path):
    "Rank 0 plans and paces; every process runs the same batches (no process waits forever for another's step)."
    root = demo_dataset('tiny')
    run = tmp_path/'run'
    r = _run([str(BIN/'torchrun'), '--standalone', '--nproc_per_node', '2', '-m', 'audiotag2019.cli', 'train', str(root), str(run), '--specs', str(tmp_path/'specs'),
              '--preset', 'cpu_demo', '--size', '64', '--bs', '16', '--budget', '1', '--quiet'], _env(tmp_path))
    assert r.stdout.count('plan: ') == 1 and r.stdout.count('job done in ') == 1, r.stdout
    r0, r1 = _ranks(tmp_path)
    assert r0['weights_md5'] == r1['weights_md5']
    assert [len(e) for e in r0['items']] == [len(e) for e in r1['items']]  # the same batches in every epoch
    pace = json.loads((run/'pace.json').read_text())
    assert len(pace['batches_per_epoch']) == len(r0['items'])
