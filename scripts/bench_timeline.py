#!/usr/bin/env python
"""Tags over time of long recordings: memory, time and segment scores.

1. Memory and time. Recordings of 10 s, 10 min and 60 min at 44.1 kHz (`sed.make_long_demo`: the demo's test clips at
   known times over room tone) go through `audiotag2019 predict RUN FILE --timeline OUT`, through the plain
   `audiotag2019 predict RUN FILE` (a file over a minute is streamed), and, for comparison, through the store path that holds
   a file whole (`inference.predict_folder` without `stream`), each as a separate process. Prints each one's wall time, CPU
   time (user + system: what a busy machine does not inflate) and peak resident memory (the process's own VmHWM).
2. Scores. On `--n` recordings of `--minutes` made of a demo dataset's clips (by default the default demo's test clips:
   notes, voices and words training never used), segment-based F1 and error rate at 1-s segments
   (`sed.segment_scores`, checked against `sed_eval` when it imports) of the timeline's events and of the
   clip-level-tags baseline (every segment gets the recording's tags), at a few `min_prob`s.
3. Scaling. The same recordings with each window scaled alone (the module's choice) and by the statistics of the 5 s,
   10 s, 20 s or whole recording around it (computed whole, here only).

The model: `--run`, else `TrainConfig.cpu_demo(size=64, fold=None)` trained on the `--root` demo dataset's curated clips
(a CPU minute or two). Usage: python scripts/bench_timeline.py [--run RUN] [--lengths 10,600,3600] [--root default]
[--split test] [--n 4] [--minutes 3] [--skip speed,scores,scaling] [--keep DIR]"""
import argparse, os, subprocess, sys, tempfile, time
from pathlib import Path
import numpy as np, pandas as pd, torch
from audiotag2019.demo import demo_dataset
from audiotag2019.config import TrainConfig
from audiotag2019.train import train
from audiotag2019.augment import WINDOW
from audiotag2019.inference import load_models, _prepared, _spec_params
from audiotag2019.spectrogram import _melspec
from audiotag2019.timeline import (timeline, merge_events, windows_table, AudioBlocks, stream_frames, window_starts, flip_probs,
                                   RecordingProbs)
from audiotag2019.sed import make_long_demo, segment_scores, clip_tag_events

def markdown(df):
    "A DataFrame as a markdown table."
    return '\n'.join(['| ' + ' | '.join(map(str, df.columns)) + ' |', '|' + '---|'*len(df.columns)]
                     + ['| ' + ' | '.join(map(str, r)) + ' |' for r in df.itertuples(index=False)])

LAUNCH = """import atexit, runpy, sys
out = sys.argv[1]
def peak(): open(out, 'w').write(open('/proc/self/status').read().split('VmHWM:')[1].split()[0])
atexit.register(peak)  # this process's own peak: forked from a large parent, a child's ru_maxrss would count the parent's pages
a = sys.argv[2:]
if a[0] == '-c': sys.argv = ['-c', *a[2:]]; exec(a[1], {'__name__': '__main__'})
else: sys.argv = a; runpy.run_module(a[0], run_name='__main__')
"""

def measured(args, log):
    "Run `python -m MODULE ARGS` (or `python -c CODE ARGS`) as its own process: `(wall seconds, CPU seconds, peak RSS in MiB, exit status)`."
    t0, hwm = time.time(), Path(str(log) + '.vmhwm')
    with open(log, 'w') as f: pr = subprocess.Popen([sys.executable, '-c', LAUNCH, str(hwm), *args], stdout=f, stderr=subprocess.STDOUT)
    _, status, ru = os.wait4(pr.pid, 0)
    return time.time() - t0, ru.ru_utime + ru.ru_stime, int(hwm.read_text())/1024, os.waitstatus_to_exitcode(status)

STORE_PATH = 'import sys; from audiotag2019.inference import predict_folder; predict_folder(sys.argv[1], sys.argv[2], progress=False)'

def speed(run, root, work, lengths):
    "Wall and CPU time and peak RSS of each way of predicting one recording of each length."
    rows = []
    for L in lengths:
        d = work/f'len{L:g}'
        if not (d/'strong_labels.csv').exists(): make_long_demo(d, root, n=1, minutes=L/60, seed=7)
        f = d/'recordings'/'long00.wav'
        for how, args in (('predict --timeline', ['audiotag2019.cli', 'predict', str(run), str(f), '--out', str(d/'t.csv'), '--timeline', str(d/'tl'), '--quiet']),
                          ('predict', ['audiotag2019.cli', 'predict', str(run), str(f), '--out', str(d/'p.csv'), '--quiet']),
                          ('whole file (store path)', ['-c', STORE_PATH, str(run), str(f)])):
            s, cpu, rss, code = measured(args, d/f'{how.split()[0]}_{len(rows)}.log')
            assert code == 0, f'{how} on {L} s failed: see {d}'
            rows.append(dict(length=f'{L/60:g} min' if L >= 60 else f'{L:g} s', how=how, seconds=round(s, 1), cpu_seconds=round(cpu, 1), peak_rss_mib=round(rss)))
            print(rows[-1], flush=True)
    return pd.DataFrame(rows)

def sed_eval_f1_er(ref, est, durs):
    "F1 and ER from `sed_eval` itself (None when it does not import)."
    import importlib.util, types
    stub = importlib.util.find_spec('pkg_resources') is None   # its dcase_util imports pkg_resources, gone from setuptools ≥ 81
    if stub: sys.modules['pkg_resources'] = types.ModuleType('pkg_resources')
    try: import sed_eval
    except ImportError: return None
    finally:
        if stub: sys.modules.pop('pkg_resources', None)
    m = sed_eval.sound_event.SegmentBasedMetrics(event_label_list=sorted(set(ref.label) | set(est.label)), time_resolution=1.)
    ev = lambda d, on, off, f: [dict(filename=f, onset=a, offset=b, event_label=l) for a, b, l in d[d.fname == f][[on, off, 'label']].itertuples(index=False)]
    for f, L in durs.items(): m.evaluate(ev(ref, 'onset', 'offset', f), ev(est, 'start_s', 'end_s', f), evaluated_length_seconds=L)
    o = m.results_overall_metrics()
    return o['f_measure']['f_measure'], o['error_rate']['error_rate']

def scores(run, long, min_probs=(0.3, 0.5, 0.7)):
    "Segment F1 / ER of the timeline and of the clip tags at each `min_prob`."
    tl = timeline(run, long/'recordings', progress=False)
    ref, durs, rows = pd.read_csv(long/'strong_labels.csv'), {f: r.duration for f, r in tl.recordings.items()}, []
    for mp in min_probs:
        for how, est in (('timeline', merge_events(tl.windows, mp)), ('clip tags', clip_tag_events(tl, mp))):
            s = segment_scores(ref, est, durs)
            chk = sed_eval_f1_er(ref, est, durs)
            if chk is not None: assert abs(chk[0] - s['f1']) < 1e-9 and abs(chk[1] - s['er']) < 1e-9, (chk, s)
            rows.append(dict(min_prob=mp, how=how, f1=round(s['f1'], 3), er=round(s['er'], 3), precision=round(s['precision'], 3),
                             recall=round(s['recall'], 3), sed_eval='agrees' if chk is not None else 'not installed'))
    return pd.DataFrame(rows)

def scaling(run, long, contexts=(None, 320, 640, 1280, 'recording'), min_prob=0.5):
    "The timeline's F1 / ER with each window scaled alone, or by the frames around it (whole recordings in memory: short ones only)."
    models, meta = load_models(run); runs = _prepared(models, meta['size'])
    p = _spec_params(meta); mel = _melspec(p, str(next(models[0].parameters()).device))
    ref, rows = pd.read_csv(long/'strong_labels.csv'), []
    for ctx in contexts:
        wins, durs = [], {}
        for f in sorted((long/'recordings').iterdir()):
            ab = AudioBlocks(f, p.sr); D = torch.cat(list(stream_frames(ab, p)), 1); T = D.shape[1]; st = window_starts(T)
            if ctx == 'recording': V = mel.scale(D.clone(), torch.zeros(T, dtype=torch.long, device=D.device), 1)[0]
            W = []
            for s in st:
                if ctx is None: a, b = s, s + WINDOW
                elif ctx == 'recording': a, b = 0, T
                else: a = max(0, min(T - ctx, s + WINDOW//2 - ctx//2)); b = a + ctx
                V_ = V if ctx == 'recording' else mel.scale(D[:, a:b].clone(), torch.zeros(b - a, dtype=torch.long, device=D.device), 1)[0]
                W.append(V_[:, s - a:s - a + WINDOW].cpu().numpy())
            P = np.mean([flip_probs(m, np.stack(W), meta['n_classes'], meta['size'], tuple(meta['stats']), meta['flips']).mean(0) for m in runs], 0)
            r = RecordingProbs(st, P, {}, T, ab.n/p.sr, np.zeros((p.n_mels, 0)), 1., [], p)
            wins.append(windows_table(f.name, r, meta['vocab'])); durs[f.name] = r.duration
        s = segment_scores(ref, merge_events(pd.concat(wins, ignore_index=True), min_prob), durs)
        name = 'each window alone (2 s)' if ctx is None else 'the whole recording' if ctx == 'recording' else f'the {ctx*p.hop/p.sr:.0f} s around it'
        rows.append(dict(scaled_by=name, f1=round(s['f1'], 3), er=round(s['er'], 3)))
        print(rows[-1], flush=True)
    return pd.DataFrame(rows)

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--run', default=None, help='a training run folder (default: train cpu_demo on the default demo data)')
    ap.add_argument('--lengths', default='10,600,3600', help='recording lengths for memory and time, seconds')
    ap.add_argument('--root', default='default', help="the demo dataset whose clips make the recordings (and train the model): 'tiny', 'small', 'default'")
    ap.add_argument('--split', default='test', help="whose clips are placed in the scored recordings: 'test' (sources training never used) or 'train_curated'")
    ap.add_argument('--n', type=int, default=4, help='recordings to score')
    ap.add_argument('--minutes', type=float, default=3., help='length of each scored recording')
    ap.add_argument('--skip', default='', help='comma-separated parts to skip: speed, scores, scaling')
    ap.add_argument('--keep', default=None, help='work in this folder and keep it (default: a temporary folder)')
    a = ap.parse_args()
    tmp = None if a.keep else tempfile.TemporaryDirectory()
    work = Path(a.keep or tmp.name); work.mkdir(parents=True, exist_ok=True)
    root, skip = demo_dataset(a.root), a.skip.split(',')
    run = Path(a.run) if a.run else work/'run'
    if not (run/'models'/'last.pth').exists() and not any(run.glob('fold*/models/last.pth')):
        t0 = time.time()
        train(TrainConfig.cpu_demo(size=64, fold=None), root, run, progress=False, specs=work/'specs')
        print(f'trained {run} in {time.time() - t0:.0f} s', flush=True)
    print(f'model: {run}; torch threads: {torch.get_num_threads()}', flush=True)
    with pd.option_context('display.width', 200, 'display.max_columns', 20):
        if 'speed' not in skip:
            sp = speed(run, root, work, [float(x) for x in a.lengths.split(',')])
            print('\n## memory and time, one recording\n' + markdown(sp), flush=True)
        long = work/'scored'
        if not (long/'strong_labels.csv').exists(): make_long_demo(long, root, n=a.n, minutes=a.minutes, split=a.split)
        if 'scores' not in skip:
            sc = scores(run, long)
            print(f'\n## segment scores at 1 s, {a.n} recordings of {a.minutes:g} min of the {a.root} demo\'s {a.split} clips\n' + markdown(sc), flush=True)
        if 'scaling' not in skip:
            print('\n## how each window is scaled (timeline, min_prob 0.5)\n' + markdown(scaling(run, long)), flush=True)

if __name__ == '__main__': main()
