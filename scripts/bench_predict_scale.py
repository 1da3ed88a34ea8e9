#!/usr/bin/env python
"""Does `audiotag2019 predict` scale to a folder of many short clips with flat memory?

Writes N short clips (FLAC, excerpts of the tiny demo dataset's audio, in sub-folders of 1,000) and runs
`audiotag2019 predict RUN FOLDER` on them as a separate process, with a one-epoch demo model (any run folder can be
given instead). Prints the command's progress lines as they come, each with the child's peak resident memory so far
(VmHWM from /proc) — flat memory means the peak after chunk 2 is the peak after the last chunk — then its wall time,
clips/s and peak resident memory (`ru_maxrss`), and a markdown row. Asserts that every clip got a prediction row.
Usage: python scripts/bench_predict_scale.py [--n 20000] [--dur 1.0] [--run RUN] [--keep DIR]"""
import argparse, contextlib, io, os, re, resource, subprocess, sys, tempfile, time
from pathlib import Path
import numpy as np, soundfile as sf
from audiotag2019.demo import demo_dataset
from audiotag2019.core import list_audio

def make_clips(src_root, out, n, dur, seed=0):
    "N clips of `dur` seconds cut at random places from the demo's audio, 1,000 per sub-folder."
    rng = np.random.default_rng(seed)
    pool = [sf.read(src_root/s/f, dtype='float32')[0] for s in ('train_curated', 'test') for f in list_audio(src_root/s)]
    pool = [y for y in pool if len(y) > dur*44100]
    k = int(dur*44100)
    for i in range(n):
        y = pool[rng.integers(len(pool))]; a = rng.integers(len(y) - k)
        d = out/f'part{i//1000:03d}'; d.mkdir(parents=True, exist_ok=True)
        sf.write(d/f'clip{i:06d}.flac', y[a:a + k], 44100)

def vm_hwm(pid):
    "Peak resident memory (MiB) of a running process so far."
    m = re.search(r'VmHWM:\s+(\d+) kB', Path(f'/proc/{pid}/status').read_text())
    return int(m.group(1))/1024 if m else float('nan')

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--n', type=int, default=20000, help='number of clips')
    ap.add_argument('--dur', type=float, default=1.0, help='seconds per clip')
    ap.add_argument('--run', default=None, help='a training run folder (default: train a one-epoch demo model)')
    ap.add_argument('--keep', default=None, help='work in this folder and keep it (default: a temporary folder)')
    a = ap.parse_args()
    tmp = None if a.keep else tempfile.TemporaryDirectory()
    work = Path(a.keep or tmp.name); work.mkdir(parents=True, exist_ok=True)
    root = demo_dataset('tiny')
    run = Path(a.run) if a.run else work/'run'
    if not (run/'models'/'best.pth').exists():
        from audiotag2019.cli import run_command
        with contextlib.redirect_stdout(io.StringIO()):
            run_command(['train', str(root), str(run), '--preset', 'cpu_demo', '--epochs', '1', '--quiet'])
    clips = work/'clips'
    if len(list_audio(clips, recursive=True)) != a.n:
        t0 = time.time(); make_clips(root, clips, a.n, a.dur); print(f'wrote {a.n} clips of {a.dur} s in {time.time()-t0:.0f} s', flush=True)
    exe = Path(sys.executable).parent/'audiotag2019'
    t0 = time.time()
    log = open(work/'predict_stdout.txt', 'w+')  # a file, not a pipe: nothing blocks while stderr is read
    r = subprocess.Popen([str(exe), 'predict', str(run), str(clips), '--out', str(work/'preds.csv')], stdout=log, stderr=subprocess.PIPE, text=True)
    hwm = []  # the child's peak RSS (MiB) as each chunk ends
    for line in r.stderr:
        if line.startswith('chunk '):
            hwm.append(vm_hwm(r.pid))
            line = line.rstrip('\n') + f'  [peak RSS so far {hwm[-1]:.0f} MiB]\n'
        print(line, end='', flush=True)
    r.wait(); log.seek(0); out = log.read()
    secs = time.time() - t0
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss/1024  # KiB on Linux → MiB
    assert r.returncode == 0, r.returncode
    print('\n'.join(l for l in out.splitlines() if not l.startswith(' ')))
    if len(hwm) > 2: print(f'peak RSS after chunk 2: {hwm[1]:.0f} MiB, after chunk {len(hwm)} (the last): {hwm[-1]:.0f} MiB (+{hwm[-1]-hwm[1]:.0f} MiB)')
    rows = sum(1 for _ in open(work/'preds.csv')) - 1
    assert rows == a.n, f'{rows} prediction rows for {a.n} clips'
    print(f'\n{a.n} clips of {a.dur} s: {secs:.0f} s ({a.n/secs:.1f} clips/s), peak RSS {rss:.0f} MiB')
    print(f'| {a.n:,} | {a.dur:g} s | {secs/60:.1f} min | {a.n/secs:.0f} | {rss:.0f} MiB |')

if __name__ == '__main__': main()
