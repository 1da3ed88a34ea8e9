"""TTA speed: batched `predict_specs` (slices of many clips per batch) vs one clip at a time, on the demo test set.

Three ways to get the same per-clip probabilities (slice-max over every 128-frame slice, four-flip averaging):
- `batched`: `tta.predict_specs`, `--bs` slices of many clips per batch, each batch run once per flip;
- `per-clip`: one clip at a time, that clip's slices as one batch (per flip) — `predict_specs` on one clip;
- `per-slice`: the method's original loop: clip by clip, flip by flip, one slice at a time (batch of 1), each slice through
  the validation preprocessing on its own.
All three must agree (max abs difference printed; asserted < 1e-5). Prints clips/s (median of `--runs`), the ratios, and a
markdown table. The model is random-initialised (speed does not depend on the weights).
Usage: python scripts/bench_tta.py [--demo default] [--arch xresnet18] [--width 0.25] [--img 128] [--runs 3] [--full]"""
import tempfile, time, warnings
warnings.filterwarnings('ignore', message='.*torch.jit.script.*')
import numpy as np
import torch
from fastcore.script import call_parse, store_true
from audiotag2019.demo import demo_dataset
from audiotag2019.core import load_dataset
from audiotag2019.spectrogram import build_dataset_stores
from audiotag2019.augment import N_FLIPS, flip_spec
from audiotag2019.model import get_model
from audiotag2019.tta import predict_specs, slice_clip, tta_tfms, slice_starts

def per_clip(model, specs, n_classes, img):
    "One clip at a time: each clip's slices as their own batch."
    return np.concatenate([predict_specs(model, [s], n_classes, size=img, progress=False) for s in specs])

def per_slice(model, specs, n_classes, img):
    "The original loop: per clip, per flip, per slice, a batch of one."
    model.eval(); tfm = tta_tfms(img); res = []
    with torch.inference_mode():
        for spec in specs:
            sl = slice_clip(spec)
            per_flip = []
            for f in range(N_FLIPS):
                probs = [torch.sigmoid(model(tfm(flip_spec(torch.from_numpy(np.ascontiguousarray(s))[None, None], f)).as_subclass(torch.Tensor))[0, f*n_classes:(f+1)*n_classes])
                         for s in sl]
                per_flip.append(torch.stack(probs).max(0).values)
            res.append(torch.stack(per_flip).mean(0).numpy())
    return np.stack(res)

def timed(fn, runs):
    ts, out = [], None
    for _ in range(runs):
        t0 = time.perf_counter(); out = fn(); ts.append(time.perf_counter() - t0)
    return out, float(np.median(ts)), ts

def bench(specs, arch, width, img, bs, runs, n_classes, skip_slice=False):
    torch.manual_seed(0)
    model = get_model(arch, n_out=N_FLIPS * n_classes, width=width).eval()
    ways = {'batched': lambda: predict_specs(model, specs, n_classes, size=img, bs=bs, progress=False),
            'per-clip': lambda: per_clip(model, specs, n_classes, img)}
    if not skip_slice: ways['per-slice'] = lambda: per_slice(model, specs, n_classes, img)
    ways['batched']()  # warm-up
    res = {k: timed(f, runs) for k, f in ways.items()}
    ref = res['batched'][0]
    rows = []
    for k, (out, med, ts) in res.items():
        diff = float(np.abs(out - ref).max())
        assert diff < 1e-5, f'{k} differs from batched by {diff}'
        rows.append((k, len(specs) / med, med, diff, ts))
    return rows

@call_parse
def main(demo:str='default', # demo dataset size: 'tiny', 'small', 'default'
         arch:str='xresnet18', # model architecture
         width:float=0.25, # model width
         img:int=128, # input side the slices are resized to (the method: 256)
         bs:int=64, # slices per batch of the batched path
         runs:int=3, # timed runs per way (median)
         threads:int=None, # torch threads (default: torch's)
         full:store_true=False, # also xresnet18 at full width
         max_clips:int=None, # use only the first clips of the test set
        ):
    "Benchmark batched TTA against one-clip-at-a-time loops."
    if threads: torch.set_num_threads(threads)
    root = demo_dataset(demo)
    vocab = load_dataset(root).vocab
    with tempfile.TemporaryDirectory() as d:
        store = build_dataset_stores(root, d, splits=('test',), progress=False)['test']
        specs = [np.array(s) for s in store][:max_clips]
    n_sl = np.array([len(slice_starts(s.shape[1])) for s in specs])
    print(f'demo {demo!r} test set: {len(specs)} clips, {n_sl.sum()} slices (per clip: median {np.median(n_sl):.0f}, max {n_sl.max()}), '
          f'{len(vocab)} classes, {N_FLIPS} flips; torch threads {torch.get_num_threads()}')
    configs = [(arch, width, img)] + ([('xresnet18', 1.0, img)] if full and (arch, width) != ('xresnet18', 1.0) else [])
    lines = ['| model | input | way | clips/s | s per run (median of %d) | speed-up of batched | max abs diff |' % runs, '|---|---|---|---|---|---|---|']
    for a, w, i in configs:
        rows = bench(specs, a, w, i, bs, runs, len(vocab))
        base = {k: s for k, _, s, _, _ in rows}
        for k, cps, med, diff, ts in rows:
            sp = '—' if k == 'batched' else f'{med / base["batched"]:.1f}×'
            print(f'{a} w{w} {i}px {k:>9}: {cps:7.2f} clips/s, runs {", ".join(f"{t:.2f}" for t in ts)} s, max abs diff {diff:.1e}')
            lines.append(f'| {a} width {w} | {i}×{i} | {k} | {cps:.1f} | {med:.2f} | {sp} | {diff:.1e} |')
    print('\n' + '\n'.join(lines))
