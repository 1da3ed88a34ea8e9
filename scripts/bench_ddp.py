"""Training in 1 vs 2 processes (torch DDP over gloo) on this machine: images per second per process and in total.

Each way runs `--steps` training steps of the same config (the demo's: xresnet10 w0.5, 128 px, global batch `--bs`)
through fastai's Learner, in `torchrun --nproc_per_node P` processes with `cores / P` torch threads each, as the
`train` command would (`RankTrainer`: DDP through accelerate, each process `bs / P` items per step). The ways are run in
turns, `--runs` times (medians). Each 2-process run also times an all-reduce of the model's gradient size over gloo:
the communication a step adds. What the numbers mean for N GPUs is printed at the end.
Usage: python scripts/bench_ddp.py [--bs 32] [--steps 20] [--runs 3]"""
import json, os, subprocess, sys, tempfile, time, warnings
warnings.filterwarnings('ignore', message='.*torch.jit.script.*')
from pathlib import Path
import numpy as np

def worker(out, bs, steps):
    "One process of a P-process run (started by torchrun): time `steps` steps; rank 0 writes the figures."
    import torch
    from fastai.learner import Learner
    from audiotag2019.demo import demo_dataset
    from audiotag2019.config import TrainConfig
    from audiotag2019.learner import open_data, make_dls, run_callbacks, StepTimer
    from audiotag2019.distributed import RankTrainer, world, init_distributed
    from audiotag2019.model import get_model
    from audiotag2019.loss import get_loss
    dev = init_distributed()
    rank, n = world()
    cfg = TrainConfig.cpu_demo(bs=bs, n_batches=steps + 3, epochs=1)
    ds, stores = open_data(demo_dataset('default'), Path(out).parent/'specs', splits=('train_curated',))
    dls = make_dls(cfg, ds, stores, device=dev)
    timer = StepTimer()
    model = get_model(cfg.arch, n_out=dls.n_out, sa=cfg.sa, width=cfg.width)
    cbs = run_callbacks(cfg) + [timer] + ([RankTrainer()] if n > 1 else [])
    learn = Learner(dls, model, loss_func=get_loss(cfg.loss), path=Path(out).parent, cbs=cbs)
    with learn.no_bar(), learn.no_logging(): learn.fit(1, cfg.lr_max)
    step = timer.step_s(3)
    ar = None
    if n > 1:  # the gradient all-reduce alone, as DDP does it once per step (in buckets)
        g = torch.zeros(sum(p.numel() for p in model.parameters()))
        torch.distributed.barrier(); t0 = time.perf_counter()
        for _ in range(10): torch.distributed.all_reduce(g)
        ar = (time.perf_counter() - t0) / 10
    if rank == 0:
        Path(out).write_text(json.dumps(dict(procs=n, step_s=step, img_s_total=bs / step, img_s_per_proc=bs / n / step, allreduce_s=ar,
                                             grad_mb=4 * sum(p.numel() for p in model.parameters()) / 2**20)))

def main(bs=32, steps=20, runs=3):
    cores = os.cpu_count()
    res = {1: [], 2: []}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(runs):
            for p in (1, 2):
                out = Path(tmp)/f'p{p}-{r}.json'
                env = {**os.environ, 'OMP_NUM_THREADS': str(max(1, cores // p))}
                cmd = [str(Path(sys.executable).parent/'torchrun'), '--standalone', '--nproc_per_node', str(p), __file__, '--worker', str(out), str(bs), str(steps)]
                r = subprocess.run(cmd, env=env, capture_output=True, text=True)
                if r.returncode: sys.exit(f'{p} process(es) failed:\n{r.stderr[-3000:]}')
                res[p].append(json.loads(out.read_text()))
                print(json.dumps(res[p][-1]), flush=True)
    med = {p: {k: float(np.median([x[k] for x in v])) for k in ('step_s', 'img_s_total', 'img_s_per_proc')} for p, v in res.items()}
    ar = float(np.median([x['allreduce_s'] for x in res[2]])); mb = res[2][0]['grad_mb']
    print(f'\n{cores} CPU cores; global batch {bs}; medians of {runs} runs\n')
    print('| processes | threads each | step | img/s per process | img/s total | vs 1 process |\n|---:|---:|---:|---:|---:|---:|')
    for p in (1, 2):
        m = med[p]
        print(f"| {p} | {max(1, cores // p)} | {1000 * m['step_s']:.0f} ms | {m['img_s_per_proc']:.1f} | {m['img_s_total']:.1f} | {m['img_s_total'] / med[1]['img_s_total']:.2f}× |")
    print(f'\nall-reduce of the {mb:.1f} MB of gradients over gloo: {1000 * ar:.1f} ms per step ({100 * ar / med[2]["step_s"]:.0f} % of a 2-process step)')

if __name__ == '__main__':
    if len(sys.argv) > 1 and sys.argv[1] == '--worker': worker(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        import argparse
        ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
        ap.add_argument('--bs', type=int, default=32); ap.add_argument('--steps', type=int, default=20); ap.add_argument('--runs', type=int, default=3)
        a = ap.parse_args(); main(a.bs, a.steps, a.runs)
