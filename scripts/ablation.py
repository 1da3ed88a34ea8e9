"""Ablation on the demo data: each switch of the method against the `TrainConfig.cpu_demo()` reference, valid lwlrap
(median over seeds; a seed also changes the folds), printed as a markdown table beside the log-mel + logistic-regression
baseline on the same splits.

    python scripts/ablation.py --demo default --seeds 0,1 [--epochs 12] [--only ref,no_flips] [--out DIR]

Results are also appended, one JSON line per run, to OUT/results.jsonl, so an interrupted ablation keeps what it finished
(and a rerun with the same OUT skips those runs)."""
import argparse, json, tempfile, time, warnings
from pathlib import Path
import numpy as np
warnings.filterwarnings('ignore')
from audiotag2019.demo import demo_dataset
from audiotag2019.train import TrainConfig, open_data, train, noisy_selection, baseline_logreg

VARIANTS = {  # name -> (what changes, TrainConfig overrides); 'noisy' runs the selection stage instead
    'ref': ('cpu_demo reference (flips, mixup, SSA, BCE)', {}),
    'no_flips': ('flips as labels off', dict(flips=False)),
    'no_mixup': ('mixup off', dict(mixup=False)),
    'no_ssa': ('self-attention off', dict(sa=False)),
    'bce++': ('BCE++ loss', dict(loss='bce++')),
    'focal': ('focal loss', dict(loss='focal')),
    'noisy': ('+ selected noisy clips (retrained)', None),
}

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--demo', default='default', help="demo dataset size: 'tiny', 'small', 'default' or a number")
    ap.add_argument('--seeds', default='0', help='comma-separated seeds')
    ap.add_argument('--epochs', type=int, default=None, help='override the reference epochs')
    ap.add_argument('--size', type=int, default=None, help='override the reference image size')
    ap.add_argument('--only', default=','.join(VARIANTS), help='comma-separated variants')
    ap.add_argument('--out', default=None, help='work folder (default: a temporary one)')
    a = ap.parse_args()
    size = a.demo if a.demo in ('tiny', 'small', 'default') else float(a.demo)
    out = Path(a.out) if a.out else Path(tempfile.mkdtemp(prefix='ablation-'))
    out.mkdir(parents=True, exist_ok=True)
    data = open_data(demo_dataset(size), specs=out/'specs')
    base_kw = {k: v for k, v in dict(epochs=a.epochs, size=a.size).items() if v is not None}
    seeds, names = [int(s) for s in a.seeds.split(',')], [n for n in a.only.split(',') if n]
    for n in names:
        if n not in VARIANTS: raise SystemExit(f'unknown variant {n!r}; choose from {list(VARIANTS)}')
    log = out/'results.jsonl'
    done = {(r['variant'], r['seed']): r for r in map(json.loads, log.read_text().splitlines())} if log.exists() else {}
    print(f'data: {data[0]}  work folder: {out}', flush=True)
    for seed in seeds:
        if ('baseline', seed) not in done:
            b = baseline_logreg(data, seed=seed)
            done[('baseline', seed)] = r = dict(variant='baseline', seed=seed, lwlrap=b['lwlrap'], seconds=0.)
            with open(log, 'a') as f: f.write(json.dumps(r) + '\n')
        for n in names:
            if (n, seed) in done: continue
            t0 = time.time()
            ref = TrainConfig.cpu_demo(seed=seed, **base_kw)
            if VARIANTS[n][1] is None:
                s = noisy_selection(ref, data, out/f'{n}_s{seed}', progress=False, overwrite=True)
                r = dict(variant=n, seed=seed, lwlrap=s.retrained.best, curated_only=s.curated.best, **{k: v for k, v in s.report.items() if k != 'rule'})
            else:
                res = train(ref.replace(**VARIANTS[n][1]), data, out/f'{n}_s{seed}', progress=False, overwrite=True, plots=False)
                r = dict(variant=n, seed=seed, lwlrap=res.best, last=res.last)
            r['seconds'] = round(time.time() - t0, 1)
            done[(n, seed)] = r
            with open(log, 'a') as f: f.write(json.dumps(r) + '\n')
            print(json.dumps(r), flush=True)
    print(table(done, names, seeds))

def table(done, names, seeds):
    "The markdown table: valid lwlrap per seed, median, and the change of the median against the reference."
    med = lambda n: float(np.median([done[(n, s)]['lwlrap'] for s in seeds if (n, s) in done])) if any((n, s) in done for s in seeds) else None
    ref = med('ref')
    rows = ['| variant | change | ' + ' | '.join(f'seed {s}' for s in seeds) + ' | median | Δ vs ref |',
            '|' + '---|' * (len(seeds) + 4)]
    for n, what in [('baseline', 'log-mel stats + logistic regression')] + [(n, VARIANTS[n][0]) for n in names]:
        m = med(n)
        cells = [f"{done[(n, s)]['lwlrap']:.3f}" if (n, s) in done else '–' for s in seeds]
        d = '' if m is None or ref is None or n == 'ref' else f'{m - ref:+.3f}'
        rows.append(f'| {n} | {what} | ' + ' | '.join(cells) + f" | {'–' if m is None else f'{m:.3f}'} | {d} |")
    return '\n'.join(rows)

if __name__ == '__main__': main()
