"""The training job against its step, side by side, on the same model, batch, precision and number of images:
- (a) `raw`: a plain PyTorch loop on pre-made batches (`bench_learner.raw`);
- (b) `learner`: the fastai Learner's step on the same pre-made batches, with `train`'s callbacks and optimizer
  (`bench_learner.learner` with `learner.adamw`);
- (c) `stage`: the real training stage as `train` runs it on the demo data (its stores built beforehand): loaders and
  augmentation, flips as labels, mixup where the recipe has it, the loss, the validation pass and its lwlrap every epoch,
  checkpoints, history, the pacer's step timer; reported for its epochs (`stage epochs`, from the first batch to the end of
  the last epoch) and for the whole call (`stage call`: model, loaders, the final validation predictions and plots too).
Ways run in turns (every run times each once, after a warm-up), so load from other processes falls on all alike; medians.
Then the split of (c)'s epochs by a callback's clock (the marks are fastai's events) and, with --profile, torch.profiler's
totals for the same phases over one stage (its own overhead included: a cross-check of the shares, not of the seconds).
Usage: python scripts/bench_job.py [--config recipe|paper] [--epochs 3] [--batches 30] [--runs 3] [--device cpu] [--profile]
                                  [--root DATASET_ROOT --minutes M]  (the recipe a stage of M minutes gets on that dataset)
       python scripts/bench_job.py --dry   (any machine, seconds: checks the script; scripts/gpu_check.sh --dry runs it)"""
import sys, tempfile, time, warnings
from pathlib import Path
warnings.filterwarnings('ignore', message='.*torch.jit.script.*')
sys.path.insert(0, str(Path(__file__).parent))
import numpy as np
import torch
from fastcore.script import call_parse, store_true
from fastai.callback.core import Callback
from audiotag2019.config import TrainConfig
from audiotag2019.demo import demo_dataset
from audiotag2019.distributed import pick_device, device_name
from audiotag2019.learner import open_data, adamw
from audiotag2019.train import train
import bench_learner

PHASES = ('data + batch callbacks', 'forward', 'loss', 'backward', 'optimizer step', 'after batch', 'validation',
          'epoch end (checkpoints, history)', 'epoch start')

class PhaseClock(Callback):
    "Seconds between fastai's events of the training epochs, by phase; with `ranges`, each phase also a torch.profiler range."
    order = 1000  # after every other callback of the same event: mixup and the device move count as the batch's data
    def __init__(self, ranges=False): self.ranges, self.s, self.rf, self.t = ranges, {p: 0. for p in PHASES}, None, None
    def _mark(self, done, nxt=None):
        t = time.perf_counter()
        if self.t is not None and done: self.s[done] += t - self.t
        if self.rf is not None: self.rf.__exit__(None, None, None); self.rf = None
        if self.ranges and nxt: self.rf = torch.profiler.record_function(nxt); self.rf.__enter__()
        self.t = t
    def before_fit(self): self.t0 = time.perf_counter()
    def before_epoch(self): self._mark('epoch start' if self.t is not None else None, 'epoch start')
    def before_train(self): self._mark('epoch start', 'data + batch callbacks')
    def before_batch(self): self._mark('data + batch callbacks' if self.training else 'validation', 'forward' if self.training else 'validation')
    def after_pred(self):
        if self.training: self._mark('forward', 'loss')
    def after_loss(self):
        if self.training: self._mark('loss', 'backward')
    def after_backward(self): self._mark('backward', 'optimizer step')
    def after_step(self): self._mark('optimizer step', 'after batch')
    def after_batch(self):
        if self.training: self._mark('after batch', 'data + batch callbacks')
    def before_validate(self): self._mark('data + batch callbacks', 'validation')
    def after_validate(self): self._mark('validation', 'epoch end (checkpoints, history)')
    def after_epoch(self): self._mark('epoch end (checkpoints, history)', 'epoch start')
    def after_fit(self):
        self._mark(None); self.fit_s = time.perf_counter() - self.t0

def stage(cfg, data, dev, tmp):
    "A function running (c) once: `train` into a new folder; returns `(call seconds, PhaseClock)`."
    k = [0]
    def run(ranges=False):
        k[0] += 1; clock = PhaseClock(ranges)
        t0 = time.perf_counter()
        train(cfg, data, Path(tmp)/f'run{k[0]}', progress=False, cbs=[clock], device=dev)
        if dev.type == 'cuda': torch.cuda.synchronize()
        return time.perf_counter() - t0, clock
    return run

@call_parse
def main(config:str='recipe', # recipe (the CPU recipe sized for the data and --minutes) or paper
         epochs:int=3, # epochs of each (c) stage
         batches:int=30, # batches per epoch: (a) and (b) run epochs × batches steps
         runs:int=3, # timed runs of every way
         size:str='default', # demo dataset size (without --root)
         root:str=None, # a dataset root in the FSDKaggle2019 layout instead of the demo
         minutes:float=10., # the recipe's stage length (it sizes the model)
         dry:store_true=False, # one epoch of two batches on the tiny demo, one run: checks the script, measures nothing
         device:str=None, # cpu, cuda (default: the best device present)
         profile:store_true=False, # also one (c) stage under torch.profiler
        ):
    dev = pick_device(device)
    if dry: size, epochs, batches, runs = 'tiny', 1, 2, 1
    src = Path(root) if root else demo_dataset(size)
    data = open_data(src, specs=Path(root)/'specs' if root else Path(tempfile.gettempdir())/f'bench_job_specs_{size}', splits=('train_curated',))
    n_train = int(len(data[0].curated) * 4 / 5)
    cfg = TrainConfig.cpu(n_train, minutes) if config == 'recipe' else TrainConfig.paper()
    if dev.type == 'cpu' and config == 'paper': cfg = cfg.replace(bs=8 if dry else 32)
    if dry: cfg = cfg.replace(size=64, bs=min(cfg.bs, 8))
    cfg = cfg.replace(epochs=epochs, n_batches=batches, fold=0)
    steps = epochs * batches
    pre = bench_learner.batches(cfg, batches, dev)
    with tempfile.TemporaryDirectory() as tmp:
        ways = {'(a) raw step': bench_learner.raw(cfg, pre, dev), '(b) learner step': bench_learner.learner(cfg, pre, dev, opt_of_model=adamw), '(c) stage': stage(cfg, data, dev, tmp)}
        for f in ways.values(): f()  # warm-up
        times = {k: [] for k in ('(a) raw step', '(b) learner step', '(c) stage epochs', '(c) stage call')}
        splits = []
        for _ in range(runs):
            for k, f in ways.items():
                if k == '(c) stage':
                    call_s, clock = f()
                    times['(c) stage epochs'].append(clock.fit_s); times['(c) stage call'].append(call_s); splits.append(clock.s)
                else:
                    t0 = time.perf_counter()
                    for _ in range(epochs): f()  # the same number of steps as the stage
                    times[k].append(time.perf_counter() - t0)
        print(f'{config}: {cfg.arch} width {cfg.width:g}, {cfg.size} px, batch {cfg.bs}, {cfg.precision}, mixup={cfg.mixup}, '
              f'channels_last={cfg.channels_last}; {epochs} epochs × {batches} batches ({steps * cfg.bs} images) × {runs} runs '
              f'on {device_name(dev)}; {root or "demo " + size}: {n_train} training clips, {len(data[0].curated) - n_train} validation clips')
        med = {k: float(np.median(v)) for k, v in times.items()}
        a, b = med['(a) raw step'], med['(b) learner step']
        print(f'\n| way | img/s | of (a) | of (b) |\n|---|---:|---:|---:|')
        for k, t in med.items(): print(f'| {k} | {steps * cfg.bs / t:.1f} | {a / t:.2f} | {b / t:.2f} |')
        sp = {p: float(np.median([s[p] for s in splits])) for p in PHASES}
        tot = med['(c) stage epochs']
        print(f'\n(c)\'s epochs by phase (median seconds of {runs} runs; {tot:.1f} s in all):\n| phase | s | share |\n|---|---:|---:|')
        for p in PHASES: print(f'| {p} | {sp[p]:.2f} | {sp[p] / tot:.1%} |')
        model = sp['forward'] + sp['loss'] + sp['backward'] + sp['optimizer step']
        print(f'| (the step: forward, loss, backward, optimizer) | {model:.2f} | {model / tot:.1%} |')
        if profile:
            from torch.profiler import profile as prof, ProfilerActivity
            acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if dev.type == 'cuda' else [])
            with prof(activities=acts) as pr: ways['(c) stage'](ranges=True)
            ev = {e.key: e.cpu_time_total / 1e6 for e in pr.key_averages() if e.key in PHASES}
            s = sum(ev.values())
            print(f'\ntorch.profiler, one (c) stage (CPU time of each phase\'s range):\n| phase | s | share |\n|---|---:|---:|')
            for p in PHASES: print(f'| {p} | {ev.get(p, 0.):.2f} | {ev.get(p, 0.) / s:.1%} |')
