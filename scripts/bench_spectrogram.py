"""Spectrogram speed: `build_store` (batched torch) vs the seed-style per-clip librosa loop, on the same files.

Prints clips/s, audio-seconds/s (median of `--runs`), their ratio, the time extrapolated to the whole
FSDKaggle2019 (~103 h of audio), peak memory of `build_store` at two sizes, and a markdown table.
Usage: python scripts/bench_spectrogram.py [--n 120] [--runs 3] [--mem_n 3000]"""
import os, resource, subprocess, sys, tempfile, time, warnings
from pathlib import Path
import numpy as np
import soundfile as sf
import torch
import librosa
from fastcore.script import call_parse
from audiotag2019.spectrogram import SpecParams, librosa_melspec, default_device
from audiotag2019.store import build_store

FSD_HOURS = 103  # FSDKaggle2019: curated + noisy + test

def synth_clip(dur, seed, sr=44100):
    "A realistic-ish clip: harmonic tone, chirp, noise bursts, a noise floor and silent margins."
    rng = np.random.default_rng(seed); n = int(dur*sr); t = np.arange(n)/sr
    f0 = rng.uniform(80, 800); y = sum(rng.uniform(0.1, 1)/k*np.sin(2*np.pi*f0*k*t) for k in range(1, 6))
    f1, f2 = rng.uniform(200, 2000), rng.uniform(2000, 15000)
    y = y*np.exp(-t*rng.uniform(0, 1)) + 0.5*np.sin(2*np.pi*(f1*t + (f2 - f1)*t**2/(2*dur)))
    for _ in range(3):
        a = rng.integers(0, n); b = min(n, a + sr//4); y[a:b] += rng.standard_normal(b - a)
    y += 1e-3*rng.standard_normal(n); m = rng.integers(0, n//5 + 1); y[:m] *= 1e-4
    return (y*10**rng.uniform(-1.5, 0)/np.abs(y).max()).astype(np.float32)

def synth_files(folder, n, seed=0):
    "`n` 16-bit wavs with FSDKaggle2019-like durations: mostly 1–15 s, some 15 s noisy-style clips, a few very short/long."
    rng = np.random.default_rng(seed); files = []
    for i in range(n):
        u = rng.random()
        dur = rng.uniform(1, 15) if u < 0.7 else 15.0 if u < 0.9 else rng.uniform(0.3, 1) if u < 0.95 else rng.uniform(15, 30)
        f = Path(folder)/f'{i:05d}.wav'; sf.write(f, synth_clip(dur, seed*100000 + i), 44100, subtype='PCM_16'); files.append(f)
    return files

def demo_files(n):
    "Up to `n` clips of the demo dataset, when `audiotag2019.demo` provides one."
    try: from audiotag2019.demo import demo_dataset
    except ImportError: return None
    root = demo_dataset('default')
    files = sorted(p for s in ('train_curated', 'train_noisy', 'test') for p in (root/s).glob('*.wav'))
    if not files: return None
    return [files[i] for i in np.linspace(0, len(files) - 1, min(n, len(files))).round().astype(int)]  # all splits

def librosa_loop(files, p=SpecParams()):
    "The seed's way: per clip, librosa.load at 44.1 kHz, trim, pad, melspectrogram, power_to_db, normalise."
    return [librosa_melspec(librosa.load(f, sr=p.sr)[0], p) for f in files]

def peak_rss_mib(files, out):
    "Peak RSS (MiB, VmHWM) of a fresh process that builds a store of `files`, and of the same process after its imports."
    lst = Path(out).with_suffix('.txt'); lst.write_text('\n'.join(map(str, files)))
    code = ("import re,sys; from pathlib import Path; from audiotag2019.store import build_store\n"
            "hwm = lambda: int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1))\n"
            "base = hwm()\n"
            f"build_store(Path({str(lst)!r}).read_text().split(chr(10)), {str(out)!r}, progress=False)\n"
            "print(base, hwm())")
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True)
    base, peak = map(int, r.stdout.split()[-2:])
    return peak/1024, base/1024

def bench(files, runs, label):
    "Median seconds of `build_store` and of the librosa loop on `files`."
    with tempfile.TemporaryDirectory() as d:
        d = Path(d); ours, ref = [], []
        build_store(files[:8], d/'warm', progress=False); librosa_loop(files[:2])   # warm-up: imports, filterbank, threads, JIT
        for r in range(runs):
            t0 = time.perf_counter(); build_store(files, d/f'run{r}', progress=False, resume=False); ours.append(time.perf_counter() - t0)
            t0 = time.perf_counter(); librosa_loop(files); ref.append(time.perf_counter() - t0)
            print(f'{label} run {r+1}: build_store {ours[-1]:.2f} s, librosa loop {ref[-1]:.2f} s', flush=True)
    return float(np.median(ours)), float(np.median(ref))

@call_parse
def main(n:int=120, # clips per set
         runs:int=3, # timed runs of each (the median is reported)
         mem_n:int=3000, # clips for the large memory measurement (hard links to the timed files)
        ):
    "Time build_store against the per-clip librosa loop and print a markdown table."
    warnings.simplefilter('ignore')
    dev = default_device()
    print(f'{os.cpu_count()} CPU cores, device {dev}, torch {torch.__version__}, librosa {librosa.__version__}')
    with tempfile.TemporaryDirectory() as d:
        d = Path(d); (d/'audio').mkdir()
        sets = [('synthetic, FSDKaggle2019-like lengths', synth_files(d/'audio', n))]
        demo = demo_files(n)
        if demo: sets.insert(0, ('demo dataset', demo))
        res = []
        for label, files in sets:
            secs = sum(sf.info(str(f)).duration for f in files)
            print(f'{label}: {len(files)} clips, {secs/60:.1f} min of audio (mean {secs/len(files):.1f} s)', flush=True)
            res.append((label, files, secs) + bench(files, runs, label))
        files = sets[-1][1]
        small, base = peak_rss_mib(files, d/'mem_small')
        (d/'links').mkdir(); big_files = []
        for i in range(mem_n):
            f = d/'links'/f'{i:06d}_{files[i % len(files)].name}'; os.link(files[i % len(files)], f); big_files.append(f)
        big, _ = peak_rss_mib(big_files, d/'mem_big')
        big_secs = mem_n*res[-1][2]/len(files)
    print(f'\n| clips | method | clips/s | audio-s/s | speed-up | {FSD_HOURS} h (FSDKaggle2019) |\n|---|---|---:|---:|---:|---:|')
    for label, files, secs, to, tr in res:
        for name, t in [('librosa loop, per clip (seed-style)', tr), (f'`build_store`, batched torch ({dev.type})', to)]:
            print(f'| {label} ({len(files)}, mean {secs/len(files):.1f} s) | {name} | {len(files)/t:.1f} | {secs/t:.0f} | {tr/t:.1f}× | {FSD_HOURS*3600/(secs/t)/60:.1f} min |')
    print(f'\nmedian of {runs} runs on {os.cpu_count()} CPU cores (shared with other work: expect noise); '
          f'"{FSD_HOURS} h" extrapolates audio-seconds/s to the whole dataset.')
    for label, files, secs, to, tr in res: print(f'speed-up on {label}: {tr/to:.1f}x')
    print(f'peak memory of build_store (VmHWM of a fresh process): {small:.0f} MiB for {len(files)} clips, '
          f'{big:.0f} MiB for {mem_n} clips ({big_secs/3600:.1f} h of audio); importing torch & co. alone: {base:.0f} MiB')
