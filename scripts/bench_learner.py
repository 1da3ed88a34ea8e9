"""The fastai Learner's training step against a plain PyTorch loop of the same model, batch and precision.

Both run the same pre-made batches (already augmented and on the device: the loaders are measured by `bench_augment.py`),
the same model (`get_model` of the config), loss (`get_loss`), gradient clipping 1, precision and memory format:
- `raw`: `for xb, yb in batches: autocast → loss → backward → clip → step → zero_grad`, torch's AdamW (foreach);
- `learner`: the project's Learner (`train`'s callbacks: `run_callbacks(cfg)`: clipping, mixed precision, channels-last;
  Recorder, no bars) with fastai's default optimizer (its `Adam` written in Python per parameter, the project's choice
  until now);
- `learner+torch_adamw`: the same Learner with `opt_func` = torch's AdamW wrapped by fastai's `OptimWrapper`, so the
  optimizer is one foreach step instead of a Python loop over parameters;
- `learner+adamw (train's)`: `learner.adamw`, what `train` uses: the same, set as fastai's Adam (no weight decay on
  batch-norm weights and biases).
Ways are timed in turns (each run times every way once, after a warm-up), so load from other processes falls on all alike;
medians of the runs. Prints images/s and each way's ratio to `raw` (goal: ≥ 0.9).
Usage: python scripts/bench_learner.py [--config cpu_demo|paper|recipe] [--steps 30] [--runs 5] [--device cpu]"""
import time, warnings
warnings.filterwarnings('ignore', message='.*torch.jit.script.*')
from functools import partial
import numpy as np
import torch
from fastcore.script import call_parse
from fastai.data.load import DataLoader
from fastai.data.core import DataLoaders
from fastai.learner import Learner
from fastai.optimizer import OptimWrapper
from audiotag2019.augment import N_FLIPS
from audiotag2019.model import get_model
from audiotag2019.loss import get_loss
from audiotag2019.config import TrainConfig
from audiotag2019.distributed import pick_device, device_name
from audiotag2019.learner import run_callbacks, adamw

C = 80  # FSDKaggle2019's classes

def batches(cfg, n, dev, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [(torch.randn(cfg.bs, 1, cfg.size, cfg.size, generator=g).to(dev), (torch.rand(cfg.bs, N_FLIPS * C, generator=g) < 0.02).float().to(dev))
            for _ in range(n)]

def raw(cfg, bs, dev):
    torch.manual_seed(0)
    model = get_model(cfg.arch, n_out=N_FLIPS * C, sa=cfg.sa, width=cfg.width).to(dev).train()
    if cfg.channels_last: model = model.to(memory_format=torch.channels_last)
    opt, loss_fn = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.99), eps=1e-5, weight_decay=0.01, foreach=True), get_loss(cfg.loss)
    amp = cfg.precision != 'fp32'
    def run():
        for xb, yb in bs:
            if cfg.channels_last: xb = xb.contiguous(memory_format=torch.channels_last)
            with torch.autocast(dev.type, torch.bfloat16, enabled=amp): loss = loss_fn(model(xb), yb)
            loss.backward(); torch.nn.utils.clip_grad_norm_(model.parameters(), 1.); opt.step(); opt.zero_grad()
        if dev.type == 'cuda': torch.cuda.synchronize()
    return run

def learner(cfg, bs, dev, opt_func=None, opt_of_model=None):
    "The Learner step; `opt_of_model(model)` gives an `opt_func` that needs the model (e.g. `learner.adamw`, what `train` uses)."
    torch.manual_seed(0)
    model = get_model(cfg.arch, n_out=N_FLIPS * C, sa=cfg.sa, width=cfg.width)
    if opt_of_model is not None: opt_func = opt_of_model(model)
    dls = DataLoaders(DataLoader(bs, bs=None, device=dev), DataLoader(bs[:1], bs=None, device=dev), device=dev)
    kw = {} if opt_func is None else dict(opt_func=opt_func)
    learn = Learner(dls, model, loss_func=get_loss(cfg.loss), cbs=run_callbacks(cfg.replace(mixup=False)), **kw)
    def run():
        with learn.no_bar(), learn.no_logging(): learn.fit(1, 1e-3)
        if dev.type == 'cuda': torch.cuda.synchronize()
    return run

@call_parse
def main(config:str='recipe', # cpu_demo, paper, or recipe (the CPU recipe's first rung: xresnet10 w0.5 at 128 px, bf16 + channels-last where native)
         steps:int=30, # batches per timed run
         runs:int=5, # timed runs of every way
         device:str=None): # cpu, cuda (default: the best device present)
    dev = pick_device(device)
    cfg = dict(cpu_demo=TrainConfig.cpu_demo(), paper=TrainConfig.paper(), recipe=TrainConfig.cpu(600, 5, gflops=1e9))[config]
    if dev.type == 'cpu' and config == 'paper': cfg = cfg.replace(bs=32)
    bs = batches(cfg, steps, dev)
    torch_adamw = partial(OptimWrapper, opt=partial(torch.optim.AdamW, foreach=True))
    ways = {'raw': raw(cfg, bs, dev), 'learner': learner(cfg, bs, dev), 'learner+torch_adamw': learner(cfg, bs, dev, torch_adamw),
            "learner+adamw (train's)": learner(cfg, bs, dev, opt_of_model=adamw)}
    for f in ways.values(): f()  # warm-up (first-call costs, allocator)
    times = {k: [] for k in ways}
    for _ in range(runs):
        for k, f in ways.items():
            t0 = time.perf_counter(); f(); times[k].append(time.perf_counter() - t0)
    print(f'{config}: {cfg.arch} width {cfg.width:g}, {cfg.size} px, batch {cfg.bs}, {cfg.precision}, channels_last={cfg.channels_last}; '
          f'{steps} steps × {runs} runs on {device_name(dev)}')
    med = {k: float(np.median(v)) for k, v in times.items()}
    for k, t in med.items(): print(f'{k:<26} {steps * cfg.bs / t:8.1f} img/s   {med["raw"] / t:5.2f} of raw')
