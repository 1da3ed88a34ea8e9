#!/usr/bin/env python
"""Is augmentation the bottleneck of training? On the demo store, batch 64, sizes 128 and 256:
(a) images/s delivered by the loaders + batch transforms alone (full augmentation, and none),
(b) images/s of a training step of xresnet18 without augmentation or mixup,
(c) images/s of a training step with the full augmentation + mixup.
Each figure is the median over batches (the first, warm-up batch dropped) of several interleaved repeats.
(a) is measured twice in each repeat, interleaved: 'before' with the former batch transforms (fastai's stock
`aug_transforms` zoom + lighting, a `torch.where` bar mask; kept below as `former_batch_tfms`), 'after' with
`augment.batch_tfms` as shipped. --loaders_only skips (b) and (c).
Usage: python scripts/bench_augment.py [--sizes 128 256] [--steps 4] [--reps 3] [--width 1.0] [--demo small] [--loaders_only]"""
import argparse, time, statistics, tempfile, warnings, json
from pathlib import Path
import numpy as np, torch
warnings.filterwarnings('ignore')
from fastai.learner import Learner
from fastai.callback.core import Callback
from fastai.callback.training import GradientClip
from audiotag2019.core import load_dataset
from audiotag2019.demo import demo_dataset
from audiotag2019.store import build_dataset_stores
from audiotag2019.data import get_dls
from audiotag2019.augment import MixUpUniform, AsImage, SpecToFloat, SpecBars, STATS
from fastai.data.transforms import Normalize, Pipeline
from fastai.torch_core import TensorImage
from fastai.vision.augment import AffineCoordTfm, aug_transforms
from audiotag2019.model import get_model
from audiotag2019.loss import get_loss

# The former implementation, the reference for 'before' (augment.batch_tfms before the loader-headroom work).
class _ResizeBatch(AffineCoordTfm):
    def __init__(self, size, mode='bilinear'): super().__init__(size=size, mode=mode, align_corners=True)
    def encodes(self, x: TensorImage): return x if tuple(x.shape[-2:]) == self.cp_size else self._encode(x, self.mode)

class _Normalize(Normalize):
    def encodes(self, x: TensorImage): return (x - self.mean) / self.std

def _bands(n, active, lo, hi):
    B, K = active.shape
    t = torch.randint(lo, hi + 1, (B, K)).clamp(max=n)
    s = (torch.rand(B, K) * (n - t + 1)).long()
    ar = torch.arange(n)
    return ((ar >= s[..., None]) & (ar < (s + t)[..., None]) & active[..., None]).any(1)  # a (B, K, n) tensor per hole

class _WhereBars(SpecBars):
    def masks(self, B, H, W, device):
        on = torch.rand(B) < self.p
        n = torch.randint(self.min_holes, self.max_holes + 1, (B,))
        active = (torch.arange(self.max_holes)[None] < n[:, None]) & on[:, None]
        return _bands(H, active, self.min_px, self.max_px), _bands(W, active, self.min_px, self.max_px)
    def encodes(self, x: TensorImage):
        rows, cols = self.masks(x.shape[0], x.shape[-2], x.shape[-1], x.device)
        return torch.where(rows[:, None, :, None] | cols[:, None, None, :], torch.tensor(float(self.fill), dtype=x.dtype), x)

def former_batch_tfms(size=256, augment=True, mode='bilinear'):
    "The former `batch_tfms` with the method's defaults: fastai's Zoom (affine grid) + Brightness/Contrast, Normalize, where-bars."
    lighting, max_zoom, erase = (0.2, 1.5, True) if augment else (0., 1., False)
    tfms = [AsImage(), SpecToFloat()]
    tfms += aug_transforms(do_flip=False, max_rotate=0., max_warp=0., min_zoom=1., max_zoom=max_zoom, p_affine=0.75,
                           max_lighting=lighting, p_lighting=0.75, size=size, mode=mode)
    if size is not None and not any(isinstance(t, AffineCoordTfm) for t in tfms): tfms.append(_ResizeBatch(size, mode))
    tfms.append(_Normalize.from_stats(*STATS, cuda=False))
    if erase: tfms.append(_WhereBars(0.75, 1, 4, 5, 20))
    return tfms

def former(dl, size, augment):
    "The loader `dl` with the former batch transforms."
    dl.after_batch = Pipeline(former_batch_tfms(size, augment), split_idx=dl.after_batch.split_idx)
    return dl

class BatchTimer(Callback):
    "Wall time of each training batch (loading + batch transforms + mixup + forward + backward + step)."
    order = -100
    def before_fit(self): self.times, self.t = [], None
    def before_batch(self):
        if self.t is not None: self.times.append(time.perf_counter() - self.t)
        self.t = time.perf_counter()
    def after_fit(self): self.t = None

def loader_rate(dl, steps):
    it, ts = iter(dl), []
    t = time.perf_counter()
    for i in range(steps + 1):
        xb, yb = next(it)
        now = time.perf_counter()
        if i: ts.append(now - t)  # drop the first (warm-up) batch
        t = now
    return dl.bs / statistics.median(ts)

def step_rate(ds, stores, size, augment, mixup, steps, width, bs):
    dls = get_dls(ds, stores, fold=0, bs=bs, size=size, n_batches=steps + 2, augment=augment)
    model = get_model('xresnet18', n_out=dls.n_out, width=width)
    timer = BatchTimer()
    cbs = [timer, GradientClip(1.)] + ([MixUpUniform(0., 0.5)] if mixup else [])
    learn = Learner(dls, model, loss_func=get_loss('bce'), cbs=cbs)
    with learn.no_bar(), learn.no_logging(): learn.fit(1, 1e-3, cbs=[_SkipValid()])
    return bs / statistics.median(timer.times[1:])  # drop the warm-up batch

class _SkipValid(Callback):
    def before_validate(self):
        from fastai.callback.core import CancelValidException
        raise CancelValidException()

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--sizes', type=int, nargs='+', default=[128, 256])
    ap.add_argument('--steps', type=int, default=4, help='timed training steps per repeat')
    ap.add_argument('--reps', type=int, default=3)
    ap.add_argument('--bs', type=int, default=64)
    ap.add_argument('--width', type=float, default=1.0, help='xresnet18 channel multiplier (1.0 = the real xresnet18)')
    ap.add_argument('--demo', default='small')
    ap.add_argument('--json', default=None, help='also write the results here')
    ap.add_argument('--loaders_only', action='store_true', help='only (a): loaders + batch transforms, before and after')
    a = ap.parse_args()
    torch.manual_seed(0)
    root = demo_dataset(a.demo)
    ds = load_dataset(root)
    tmp = tempfile.TemporaryDirectory()
    stores = build_dataset_stores(ds, Path(tmp.name), splits=('train_curated',), progress=False)
    print(f'{ds}; torch threads {torch.get_num_threads()}; batch {a.bs}; xresnet18 width {a.width}')
    rows = []
    for size in a.sizes:
        keys = ('load_aug_before', 'load_aug', 'load_plain_before', 'load_plain') + (() if a.loaders_only else ('step_plain', 'step_aug'))
        res = {k: [] for k in keys}
        dl = lambda aug: get_dls(ds, stores, bs=a.bs, size=size, n_batches=a.steps * 3 + 1, augment=aug).train
        for r in range(a.reps):
            res['load_aug_before'].append(loader_rate(former(dl(True), size, True), a.steps * 3))
            res['load_aug'].append(loader_rate(dl(True), a.steps * 3))
            res['load_plain_before'].append(loader_rate(former(dl(False), size, False), a.steps * 3))
            res['load_plain'].append(loader_rate(dl(False), a.steps * 3))
            if a.loaders_only: pass
            else:
                res['step_plain'].append(step_rate(ds, stores, size, False, False, a.steps, a.width, a.bs))
                res['step_aug'].append(step_rate(ds, stores, size, True, True, a.steps, a.width, a.bs))
            print(f'  size {size} repeat {r+1}: ' + ', '.join(f'{k} {v[-1]:.1f}' for k, v in res.items()), flush=True)
        med = {k: statistics.median(v) for k, v in res.items()}
        rows.append((size, med))
    print('\n| size | (a) loaders + full augmentation, before → after, img/s | speed-up | loaders, no augmentation, before → after, img/s | speed-up |')
    print('|---:|---:|---:|---:|---:|')
    for size, m in rows:
        print(f"| {size} | {m['load_aug_before']:.0f} → **{m['load_aug']:.0f}** | {m['load_aug']/m['load_aug_before']:.2f}× "
              f"| {m['load_plain_before']:.0f} → **{m['load_plain']:.0f}** | {m['load_plain']/m['load_plain_before']:.2f}× |")
    if not a.loaders_only:
        print('\n| size | (a) loaders + full augmentation, img/s | (b) train step, no augmentation, img/s | (c) train step, augmentation + mixup, img/s | (c)/(b) |')
        print('|---:|---:|---:|---:|---:|')
        for size, m in rows:
            print(f"| {size} | {m['load_aug']:.0f} | {m['step_plain']:.2f} | {m['step_aug']:.2f} | {m['step_aug']/m['step_plain']:.2f} |")
    if a.json: Path(a.json).write_text(json.dumps([{'size': s, **m} for s, m in rows], indent=1))

if __name__ == '__main__': main()
