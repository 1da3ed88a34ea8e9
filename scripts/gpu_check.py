"""The GPU check: the method's stages timed on one device, as one table (run by scripts/gpu_check.sh after the cuda tests).

Stages, each on `--device` (default: cuda when present):
- spectrograms: `build_store` of the demo dataset's clips (trim, log-mel, uint8) → clips/s, audio-s/s, and the whole
  FSDKaggle2019 (103 h of audio) extrapolated;
- loaders + augmentation: the `paper` config's loaders at 256 px (windows, zoom, lighting, bars on the device) → img/s;
- training step: the `paper` config (xresnet18 + SSA, 256 px, batch 64, one-cycle, mixup, gradient clipping) through
  fastai's Learner, at `--precision` (bf16 where the GPU supports it) with channels-last on a GPU → img/s, peak device
  memory, and one `paper` epoch (1,000 batches of 64) extrapolated;
- TTA: slice-max over every 128-frame slice with four flips (`predict_specs`) on the demo test set → clips/s, and the
  FSDKaggle2019 test set (4,481 clips) extrapolated;
- the real command, as a user types it (no `--device`): `audiotag2019 run DEMO OUT --budget B --folds 2` → the device its plan
  names, training img/s (the folds' `pace.json`), the GPU's busy share while it ran (nvidia-smi every 0.5 s) and the test
  lwlrap: a model left on the CPU shows at once;
- DDP on this machine: `torchrun --nproc_per_node 2 -m audiotag2019.cli train …` (on one GPU both ranks share it, over gloo)
  → each rank's device and whether their final weights are identical.
`--dry` runs every stage on a handful of items (any device, seconds): the script itself is checked in CI that way.
Usage: python scripts/gpu_check.py [--device cuda] [--precision bf16] [--dry]"""
import json, os, re, shutil, subprocess, sys, tempfile, time, warnings
warnings.filterwarnings('ignore', message='.*torch.jit.script.*')
from pathlib import Path
import numpy as np
import torch
from fastcore.script import call_parse, store_true
from fastai.learner import Learner
from audiotag2019.core import load_dataset, SPLITS
from audiotag2019.demo import demo_dataset
from audiotag2019.store import build_store
from audiotag2019.config import TrainConfig
from audiotag2019.learner import make_dls, run_callbacks, StepTimer
from audiotag2019.model import get_model
from audiotag2019.loss import get_loss
from audiotag2019.tta import predict_specs

FSD_HOURS, FSD_TEST, PAPER_EPOCH = 103, 4481, 1000 * 64  # FSDKaggle2019: hours of audio; test clips; images in one `paper` epoch

def _sync(dev):
    if dev.type == 'cuda': torch.cuda.synchronize()

def _mem(dev): return f'{torch.cuda.max_memory_allocated(dev) / 2**30:.1f} GiB' if dev.type == 'cuda' else '—'

def _busy_sampler(path):
    "nvidia-smi writing the GPU's utilisation every 0.5 s to `path` (None where there is no nvidia-smi)."
    exe = shutil.which('nvidia-smi')
    if exe is None: return None
    return subprocess.Popen([exe, '--query-gpu=utilization.gpu', '--format=csv,noheader,nounits', '-lms', '500'], stdout=open(path, 'w'), stderr=subprocess.DEVNULL)

def real_command(root, tmp, dev, budget):
    "`audiotag2019 run` on the demo data as a user types it (no --device): the device it chose, img/s, GPU busy share, test lwlrap."
    out, log = tmp/'job', tmp/'busy.txt'
    sampler = _busy_sampler(log) if dev.type == 'cuda' else None
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, '-m', 'audiotag2019.cli', 'run', str(root), str(out), '--budget', str(budget), '--folds', '2', '--quiet'],
                       capture_output=True, text=True)
    secs = time.perf_counter() - t0
    if sampler is not None: sampler.terminate(); sampler.wait()
    if r.returncode: raise SystemExit(f'audiotag2019 run failed:\n{r.stdout[-2000:]}{r.stderr[-2000:]}')
    plan = next((l for l in r.stdout.splitlines() if l.startswith('plan: ')), '')
    used = re.search(r' on (\S+) ', plan).group(1) if ' on ' in plan else '?'
    paces = [json.loads(p.read_text()) for p in out.glob('runs/**/pace.json')]
    img_s = sum(p['images'] for p in paces) / max(sum(p['seconds'] for p in paces), 1e-9)
    busy = [float(v) for v in log.read_text().split()] if sampler is not None and log.exists() else []
    s = json.loads((out/'summary.json').read_text())
    return (f'real command: run --budget {budget} --folds 2 (demo data), planned on {used}', f'{img_s:.3g} img/s',
            f'GPU busy {np.mean(busy):.0f} %' if busy else '—', '—', f"test lwlrap {s['test_lwlrap']:.3f}, job {secs / 60:.1f} min")

def two_processes(root, tmp, dry):
    "DDP with 2 processes on this machine (on one GPU both ranks share it): each rank's device, identical final weights."
    logs, run = tmp/'ranks', tmp/'ddp'
    exe = shutil.which('torchrun', path=os.path.dirname(sys.executable)) or shutil.which('torchrun')
    args = [exe, '--standalone', '--nproc_per_node', '2', '-m', 'audiotag2019.cli', 'train', str(root), str(run), '--specs', str(tmp/'specs_ddp'),
            '--preset', 'cpu_demo', '--size', '64', '--bs', '16', '--epochs', '1', '--n_batches', '4', '--quiet']
    t0 = time.perf_counter()
    r = subprocess.run(args, capture_output=True, text=True, env={**os.environ, 'AUDIOTAG2019_RANK_LOG': str(logs)})
    if r.returncode: raise SystemExit(f'torchrun failed:\n{r.stdout[-2000:]}{r.stderr[-3000:]}')
    ranks = [json.loads(p.read_text()) for p in sorted(logs.glob('rank*.json'))]
    same = len(ranks) == 2 and ranks[0]['weights_md5'] == ranks[1]['weights_md5']
    return ('DDP: torchrun, 2 processes on this machine', f'{time.perf_counter() - t0:.0f} s', '—', '—',
            f"{len(ranks)} ranks on {', '.join(sorted({str(k.get('device', '?')) for k in ranks}))}; weights identical: {'yes' if same else 'NO'}")

@call_parse
def main(device:str=None, # cuda, cpu (default: cuda when present)
         precision:str=None, # fp32, bf16, fp16 (default: bf16 on a GPU that has it, else fp32)
         dry:store_true=False, # a few items per stage: checks the script, measures nothing
         steps:int=30, # timed training steps
        ):
    dev = torch.device(device or ('cuda' if torch.cuda.is_available() else 'cpu'))
    if precision is None: precision = 'bf16' if dev.type == 'cuda' and torch.cuda.is_bf16_supported() else 'fp32'
    name = torch.cuda.get_device_name(dev) if dev.type == 'cuda' else 'CPU'
    print(f'device {dev} ({name}), torch {torch.__version__}, precision {precision}{", dry run" if dry else ""}', flush=True)
    root = demo_dataset('tiny' if dry else 'default')
    ds = load_dataset(root)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # spectrograms
        stores, n_clips, secs, audio_s = {}, 0, 0., 0.
        for s in SPLITS:
            files = sorted((root/s).glob('*.wav'))
            _sync(dev); t0 = time.perf_counter()
            stores[s] = build_store(files, tmp/'specs'/s, device=dev, progress=False)
            _sync(dev); secs += time.perf_counter() - t0
            n_clips += len(files); audio_s += float(stores[s].durations.sum())
        rate = n_clips / secs
        audio_rate = audio_s / secs if audio_s else float('nan')
        rows.append(('spectrograms (demo clips)', f'{rate:.3g} clips/s', f'{audio_rate:.3g} audio-s/s', '—',
                     f'FSDKaggle2019 ({FSD_HOURS} h): {FSD_HOURS * 3600 / audio_rate / 60:.1f} min'))
        print(rows[-1], flush=True)
        # loaders + augmentation
        cfg = TrainConfig.paper(precision=precision, channels_last=dev.type == 'cuda', bs=8 if dry else 64, n_batches=2 if dry else 20)
        dls = make_dls(cfg, ds, stores, device=dev)
        n = 0; it = iter(dls.train); next(it); _sync(dev); t0 = time.perf_counter()
        for xb, yb in it: n += len(xb)
        _sync(dev); rows.append(('loaders + augmentation, 256 px', f'{n / (time.perf_counter() - t0):.3g} img/s', '—', '—', '—'))
        print(rows[-1], flush=True)
        # training step
        cfg = cfg.replace(n_batches=3 if dry else steps + 3)
        dls = make_dls(cfg, ds, stores, device=dev)
        if dev.type == 'cuda': torch.cuda.reset_peak_memory_stats(dev)
        timer = StepTimer()
        learn = Learner(dls, get_model(cfg.arch, n_out=dls.n_out, sa=cfg.sa, width=cfg.width), loss_func=get_loss(cfg.loss), path=tmp,
                        cbs=run_callbacks(cfg) + [timer])
        with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(1, cfg.lr_max)
        step_s = timer.step_s(2 if not dry else 1)
        img_s = cfg.bs / step_s
        rows.append((f'training step, paper config ({cfg.arch} + SSA, 256 px, batch {cfg.bs}, {precision})', f'{img_s:.3g} img/s', '—',
                     _mem(dev), f'one paper epoch (1,000 × 64): {PAPER_EPOCH / img_s / 60:.1f} min'))
        print(rows[-1], flush=True)
        # TTA
        model = learn.model.eval()
        specs = stores['test']
        _sync(dev); t0 = time.perf_counter()
        predict_specs(model, specs, len(ds.vocab), size=256, progress=False)
        _sync(dev); tta = len(specs) / (time.perf_counter() - t0)
        rows.append(('TTA (every slice × 4 flips), paper model', f'{tta:.3g} clips/s', '—', _mem(dev),
                     f'FSDKaggle2019 test ({FSD_TEST:,} clips): {FSD_TEST / tta / 60:.1f} min'))
        print(rows[-1], flush=True)
        rows.append(real_command(root, tmp, dev, budget=1.5 if dry else 3))
        print(rows[-1], flush=True)
        rows.append(two_processes(root, tmp, dry))
        print(rows[-1], flush=True)
    print(f'\n| stage on {name} | rate | audio | peak GPU memory | extrapolated |\n|---|---:|---:|---:|---|')
    for r in rows: print('| ' + ' | '.join(r) + ' |')
    return rows
