"""CPU training step: images per second of one optimiser step, ways to run it, and the share of the machine's matmul rate.

One step = the loaded batch through the model (forward), the BCE loss on 4C outputs, backward, gradient clipping and an
Adam update (fastai's optimizer), as `train` runs it; batches are random uint8 windows through the CPU recipe's batch
transforms (the loader's cost, measured separately by `bench_augment.py`, is not in it). Ways:
- `fp32` (the reference): eager PyTorch, contiguous (NCHW) tensors;
- `channels_last`: model and batches in NHWC memory format;
- `bf16 autocast`: `torch.autocast('cpu', torch.bfloat16)` around forward + loss (weights and optimizer stay fp32);
- `torch.compile`: the model compiled by inductor (compile time reported apart, not in the rate);
- `channels_last+bf16`: both;
- `threads N`: the reference with N torch threads.
Ways are timed in turns (each run times every way once), so that load from other processes falls on all alike.
The last column is the step's arithmetic rate (forward + backward FLOPs counted by torch's FlopCounterMode) against a
2048² float32 matrix product on the same threads: the practical ceiling of a convolution on this CPU.
Configs: the rungs of the CPU recipe's ladder (`train.CPU_LADDER`) and `paper` (xresnet18 at 256 px, batch 32).
Usage: python scripts/bench_train_step.py [--configs xresnet10-w0.5-64,...,paper] [--steps 8] [--runs 5] [--ways fp32,...]"""
import time, warnings
warnings.filterwarnings('ignore', message='.*torch.jit.script.*')
import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode
from fastcore.script import call_parse
from fastai.optimizer import Adam
from audiotag2019.augment import batch_tfms, N_FLIPS
from audiotag2019.model import get_model
from audiotag2019.loss import get_loss
from audiotag2019.config import TrainConfig, CPU_LADDER, machine_gflops

C = 80  # FSDKaggle2019's classes: the output layer of the real task

def make_batches(cfg, n, seed=0):
    "`n` augmented batches of the config (random windows: speed does not depend on the content)."
    g = torch.Generator().manual_seed(seed)
    tfms = batch_tfms(size=cfg.size, stats=cfg.stats, **({} if cfg.augment else dict(augment=False)), **cfg.aug)
    out = []
    for _ in range(n):
        x = torch.randint(0, 256, (cfg.bs, 1, 128, 128), dtype=torch.uint8, generator=g)
        for t in tfms:
            t.split_idx = None  # apply the random transforms as in training
            x = t(x)
        y = (torch.rand(cfg.bs, N_FLIPS * C, generator=g) < 0.02).float()
        out.append((x.as_subclass(torch.Tensor).contiguous(), y))
    return out

def step_fn(cfg, way):
    "A closure running one training step on a batch, and the model."
    torch.manual_seed(0)
    model = get_model(cfg.arch, n_out=N_FLIPS * C, sa=cfg.sa, width=cfg.width).train()
    loss_fn = get_loss(cfg.loss)
    cl = 'channels_last' in way
    if cl: model = model.to(memory_format=torch.channels_last)
    fwd = torch.compile(model) if way == 'torch.compile' else model
    opt = Adam(list(model.parameters()), lr=1e-3)
    bf16 = 'bf16' in way
    def step(xb, yb):
        if cl: xb = xb.contiguous(memory_format=torch.channels_last)
        with torch.autocast('cpu', torch.bfloat16, enabled=bf16):
            loss = loss_fn(fwd(xb), yb)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.)
        opt.step(); opt.zero_grad()
        return float(loss)
    return step, model

def step_flops(cfg):
    model = get_model(cfg.arch, n_out=N_FLIPS * C, sa=cfg.sa, width=cfg.width).train()
    x = torch.zeros(cfg.bs, 1, cfg.size, cfg.size)
    with FlopCounterMode(display=False) as fc: model(x).sum().backward()
    return fc.get_total_flops()

def bench(cfg, ways, steps, runs):
    "img/s of every way (median of `runs`), timed in turns (way 1, way 2, …, way 1, …) so that load from other processes hits all alike."
    threads, batches, fns, warm = torch.get_num_threads(), make_batches(cfg, steps), {}, {}
    def nthreads(way): return int(way.split()[1]) if way.startswith('threads') else threads
    for way in ways:
        try:
            torch.set_num_threads(nthreads(way))
            fns[way] = step_fn(cfg, way)[0]
            t0 = time.perf_counter(); fns[way](*batches[0]); fns[way](*batches[1]); warm[way] = time.perf_counter() - t0  # warm-up (compiles)
        except Exception as e: print(f'{way:<16} failed: {type(e).__name__}: {str(e).splitlines()[0][:100]}')
        finally: torch.set_num_threads(threads)
    ts, ceil = {w: [] for w in fns}, []
    for _ in range(runs):
        ceil.append(machine_gflops(2048, 10))
        for way, f in fns.items():
            torch.set_num_threads(nthreads(way))
            t0 = time.perf_counter()
            for xb, yb in batches: f(xb, yb)
            ts[way].append(time.perf_counter() - t0)
            torch.set_num_threads(threads)
    return {w: cfg.bs * steps / float(np.median(t)) for w, t in ts.items()}, warm, float(np.median(ceil))

CONFIGS = {  # the CPU recipe's ladder (`train.CPU_LADDER`), cheapest first, and the method's model at 256 px
    **{f'{a}-w{w:g}-{s}': (lambda a=a, w=w, s=s, b=b: TrainConfig.cpu_demo(arch=a, width=w, size=s, bs=b)) for a, w, s, b in CPU_LADDER},
    'paper': lambda: TrainConfig.paper(bs=32),
}

def profile(cfg, way='fp32', steps=4, top=12):
    "Where one step's time goes: torch.profiler's operators by self CPU time, grouped into convolution / normalisation / optimizer / other."
    from torch.profiler import profile as tprofile, ProfilerActivity
    step, _ = step_fn(cfg, way)
    batches = make_batches(cfg, steps + 2)
    for b in batches[:2]: step(*b)
    with tprofile(activities=[ProfilerActivity.CPU]) as prof:
        for b in batches[2:]: step(*b)
    ev = [e for e in prof.key_averages() if e.self_cpu_time_total > 0]
    tot = sum(e.self_cpu_time_total for e in ev)
    groups = {'convolution (fwd + bwd)': ('conv', 'mkldnn'), 'batch norm': ('batch_norm',), 'optimizer (Adam)': ('adam', 'foreach', '_fused', 'addcdiv', 'lerp', 'sqrt'),
              'activations': ('relu', 'threshold'), 'pooling': ('pool',)}
    share = {g: 0. for g in groups}; share['other'] = 0.
    for e in ev:
        g = next((g for g, keys in groups.items() if any(k in e.key.lower() for k in keys)), 'other')
        share[g] += e.self_cpu_time_total
    print(f'profile of {steps} steps ({way}): ' + ', '.join(f'{g} {100*v/tot:.0f} %' for g, v in share.items()))
    for e in sorted(ev, key=lambda e: -e.self_cpu_time_total)[:top]: print(f'  {e.key[:60]:<60} {100*e.self_cpu_time_total/tot:5.1f} %')

@call_parse
def main(configs:str=','.join(list(CONFIGS)[:4]), # which configs (see CONFIGS)
         ways:str='fp32,channels_last,bf16 autocast,channels_last+bf16,torch.compile,threads 1', # ways to run the step
         steps:int=8, # timed steps per run
         runs:int=5, # runs per way (median)
         prof:str=None, # also profile this config's fp32 step (a name from CONFIGS)
        ):
    print(f'{torch.get_num_threads()} torch threads')
    if prof: profile(CONFIGS[prof]())
    rows = []
    for name in configs.split(','):
        cfg = CONFIGS[name]()
        gf = step_flops(cfg) / cfg.bs / 1e9  # GFLOP per image, forward + backward
        rates, warm, ceiling = bench(cfg, ways.split(','), steps, runs)
        print(f'{name}: {cfg.arch} w{cfg.width:g}, {cfg.size} px, batch {cfg.bs}: {gf:.2f} GFLOP per image; matmul ceiling {ceiling:.0f} GFLOP/s')
        for way, rate in rates.items():
            sp = rate / rates['fp32'] if 'fp32' in rates else float('nan')
            rows.append((name, cfg, way, rate, sp, gf * rate, ceiling))
            print(f'  {way:<18} {rate:7.1f} img/s  {sp:5.2f}×  {gf*rate:6.1f} GFLOP/s ({100*gf*rate/ceiling:3.0f} % of the ceiling)  warm-up {warm[way]:.1f} s', flush=True)
    print('\n| config | way | img/s | vs fp32 | GFLOP/s (% of the matmul ceiling) |\n|---|---|---:|---:|---:|')
    for name, cfg, way, rate, sp, gfs, ceiling in rows:
        desc = f'{name}: {cfg.arch} w{cfg.width:g}{" SSA" if cfg.sa else ""}, {cfg.size} px, batch {cfg.bs}'
        print(f'| {desc} | {way} | {rate:.1f} | {sp:.2f}× | {gfs:.0f} ({100*gfs/ceiling:.0f} %) |')
