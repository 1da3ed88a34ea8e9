"""TTA speed: `tta.predict_specs` against the method's one-clip-at-a-time loop, on the demo test set.

Three ways to the same per-clip probabilities (slice-max over every 128-frame slice of a clip, four-flip averaging):
- `seed loop` (the reference): the method's loop — for each flip, for each clip, the clip's slices prepared one by one,
  stacked into one batch and run through the model as it is (eager PyTorch);
- `batched, eager`: `predict_specs(jit=False)`: slices of many clips per batch, the eager model;
- `batched`: `predict_specs` as shipped: the same batches and, on CPU, the TorchScript-optimised model (`tta.inference_model`).
All must agree with the reference (max abs difference printed; asserted < 1e-5). Prints clips/s (median of `--runs`), the
speed-up over the reference, the model's arithmetic rate (GFLOP/s) next to a large matrix product's on the same machine and
threads (a practical ceiling), and a markdown table. Models are random-initialised (speed does not depend on the weights).
Default model: the demo's (`TrainConfig.cpu_demo()`); `--full` adds the method's xresnet18 at 256 px.
Usage: python scripts/bench_tta.py [--demo default] [--bs 8,16,32] [--runs 3] [--full] [--threads N]"""
import tempfile, time, warnings
warnings.filterwarnings('ignore', message='.*torch.jit.script.*')
import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode
from fastcore.script import call_parse, store_true
from audiotag2019.demo import demo_dataset
from audiotag2019.core import load_dataset
from audiotag2019.store import build_dataset_stores
from audiotag2019.augment import N_FLIPS, flip_spec
from audiotag2019.model import get_model
from audiotag2019.config import TrainConfig, machine_gflops
from audiotag2019.tta import predict_specs, slice_clip, tta_tfms, slice_starts, flip_block, DEFAULT_BS

def seed_loop(model, specs, n_classes, size):
    "The method's loop: per flip, per clip, the clip's slices (prepared one by one) as one batch, the eager model."
    model.eval(); tfm = tta_tfms(size); res = np.zeros((N_FLIPS, len(specs), n_classes), np.float32)
    with torch.inference_mode():
        for f in range(N_FLIPS):
            for i, spec in enumerate(specs):
                xb = torch.cat([tfm(flip_spec(torch.from_numpy(np.ascontiguousarray(s))[None, None], f)).as_subclass(torch.Tensor)
                                for s in slice_clip(spec)])
                res[f, i] = torch.sigmoid(flip_block(model(xb), f, n_classes)).max(0).values.numpy()
    return res.mean(0)

def timed(fn, runs):
    ts, out = [], None
    for _ in range(runs):
        t0 = time.perf_counter(); out = fn(); ts.append(time.perf_counter() - t0)
    return out, float(np.median(ts)), ts

def model_flops(model, size):
    with FlopCounterMode(display=False) as fc, torch.inference_mode(): model(torch.zeros(1, 1, size, size))
    return fc.get_total_flops()

def bench(specs, arch, width, sa, size, bss, runs, n_classes):
    torch.manual_seed(0)
    model = get_model(arch, n_out=N_FLIPS * n_classes, width=width, sa=sa).eval()
    ways = {'seed loop': lambda: seed_loop(model, specs, n_classes, size)}
    for bs in bss:
        ways[f'batched, eager, bs {bs}'] = lambda bs=bs: predict_specs(model, specs, n_classes, size=size, bs=bs, jit=False, progress=False)
        ways[f'batched, bs {bs}'] = lambda bs=bs: predict_specs(model, specs, n_classes, size=size, bs=bs, progress=False)
    predict_specs(model, specs[:8], n_classes, size=size, progress=False)  # warm-up
    res = {k: timed(f, runs) for k, f in ways.items()}
    ref = res['seed loop'][0]
    gflop = model_flops(model, size) * sum(len(slice_starts(s.shape[1])) for s in specs) * N_FLIPS / 1e9
    rows = []
    for k, (out, med, ts) in res.items():
        diff = float(np.abs(out - ref).max())
        assert diff < 1e-5, f'{k} differs from the seed loop by {diff}'
        rows.append((k, len(specs) / med, med, res['seed loop'][1] / med, gflop / med, diff, ts))
    return rows

@call_parse
def main(demo:str='default', # demo dataset size: 'tiny', 'small', 'default'
         bs:str=None, # slices per batch of the batched ways, comma-separated (default: `tta.DEFAULT_BS['cpu']`)
         runs:int=3, # timed runs per way (median)
         threads:int=None, # torch threads (default: torch's)
         full:store_true=False, # also the method's model: xresnet18, full width, 256 px
         max_clips:int=None, # use only the first clips of the test set
        ):
    "Benchmark batched TTA against the method's one-clip-at-a-time loop."
    if threads: torch.set_num_threads(threads)
    bss = [int(b) for b in bs.split(',')] if bs else [DEFAULT_BS['cpu']]
    root = demo_dataset(demo)
    vocab = load_dataset(root).vocab
    with tempfile.TemporaryDirectory() as d:
        store = build_dataset_stores(root, d, splits=('test',), progress=False)['test']
        specs = [np.array(s) for s in store][:max_clips]
    n_sl = np.array([len(slice_starts(s.shape[1])) for s in specs])
    peak = float(np.median([machine_gflops(2048, 10) for _ in range(3)]))
    print(f'demo {demo!r} test set: {len(specs)} clips, {n_sl.sum()} slices (per clip: median {np.median(n_sl):.0f}, max {n_sl.max()}), '
          f'{len(vocab)} classes, {N_FLIPS} flips; torch threads {torch.get_num_threads()}; float32 matrix product: {peak:.0f} GFLOP/s')
    c = TrainConfig.cpu_demo()
    configs = [(c.arch, c.width, c.sa, c.size)] + ([('xresnet18', 1.0, True, 256)] if full else [])
    lines = [f'| model | input | way | clips/s | s per run (median of {runs}) | speed-up over the seed loop | GFLOP/s (% of matrix product) | max abs diff |',
             '|---|---|---|---|---|---|---|---|']
    for a, w, sa, size in configs:
        for k, cps, med, sp, gfs, diff, ts in bench(specs, a, w, sa, size, bss, runs, len(vocab)):
            print(f'{a} w{w} {size}px {k:>22}: {cps:7.2f} clips/s, {sp:4.2f}×, {gfs:5.1f} GFLOP/s ({gfs / peak:4.0%}), '
                  f'runs {", ".join(f"{t:.2f}" for t in ts)} s, max abs diff {diff:.1e}', flush=True)
            lines.append(f'| {a} width {w} | {size}×{size} | {k} | {cps:.1f} | {med:.2f} | {"—" if k == "seed loop" else f"{sp:.2f}×"} | '
                         f'{gfs:.0f} ({gfs / peak:.0%}) | {diff:.1e} |')
    print('\n' + '\n'.join(lines))
