"""Ablation on the demo data: each switch of the method against the `TrainConfig.cpu_demo()` reference, valid lwlrap
(median over seeds; a seed also changes the folds) of the best epoch's one-window metric and of the method's inference
(slice-max TTA + flip averaging, `tta.predict_specs`) on the same weights, printed as a markdown table beside the log-mel +
logistic-regression baseline on the same splits, plus the noisy-selection counts.

    python scripts/ablation.py --demo default --seeds 0,1 [--epochs 12] [--only ref,no_flips] [--out DIR]

Results are also appended, one JSON line per run, to OUT/results.jsonl, so an interrupted ablation keeps what it finished
(and a rerun with the same OUT skips those runs)."""
import argparse, json, tempfile, time, warnings
from pathlib import Path
import numpy as np
warnings.filterwarnings('ignore')
from audiotag2019.demo import demo_dataset
from audiotag2019.config import TrainConfig
from audiotag2019.learner import open_data
from audiotag2019.train import train
from audiotag2019.noisy import noisy_selection
from audiotag2019.baseline import baseline_logreg
from audiotag2019.inference import load_model
from audiotag2019.tta import predict_specs

def tta_fn(run_dir, specs, which='best'):
    "The method's inference on a run's `which` checkpoint: max over every slice of each clip, averaged over the flips."
    model, cfg, meta = load_model(run_dir, which)
    return predict_specs(model, specs, meta['n_classes'], size=meta['size'], stats=tuple(meta['stats']), flips=meta['flips'], progress=False)

VARIANTS = {  # name -> (what changes, TrainConfig overrides); 'noisy' runs the selection stage instead
    'ref': ('cpu_demo reference (flips, SSA, BCE, no mixup)', {}),
    'no_flips': ('flips as labels off', dict(flips=False)),
    'mixup': ('mixup U(0, 0.5) on', dict(mixup=True)),
    'no_ssa': ('self-attention off', dict(sa=False)),
    'bce++': ('BCE++ loss', dict(loss='bce++')),
    'focal': ('focal loss', dict(loss='focal')),
    'paper_aug': ("the method's augmentation sizes at 128 px (bars 5–20 px, zoom 1.5)", dict(aug={})),
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
            done[('baseline', seed)] = r = dict(variant='baseline', seed=seed, lwlrap=b['lwlrap'], last=b['lwlrap'], tta=b['lwlrap'], seconds=0.)
            with open(log, 'a') as f: f.write(json.dumps(r) + '\n')
        for n in names:
            if (n, seed) in done: continue
            t0 = time.time()
            ref = TrainConfig.cpu_demo(seed=seed, **base_kw)
            if VARIANTS[n][1] is None:
                s = noisy_selection(ref, data, out/f'{n}_s{seed}', progress=False, overwrite=True, predict_fn=tta_fn)
                vt = train(ref.replace(noisy_fnames=str(out/f'{n}_s{seed}'/'noisy_kept.csv')), data, out/f'{n}_s{seed}'/'curated+noisy',
                           progress=False, resume=True, plots=False, valid_predict_fn=tta_fn).valid_tta  # finished: scoring only
                r = dict(variant=n, seed=seed, lwlrap=s.retrained.best, last=s.retrained.last, tta=vt, curated_only=s.curated.best, **{k: v for k, v in s.report.items() if k != 'rule'})
            else:
                res = train(ref.replace(**VARIANTS[n][1]), data, out/f'{n}_s{seed}', progress=False, overwrite=True, plots=False,
                            valid_predict_fn=tta_fn)
                r = dict(variant=n, seed=seed, lwlrap=res.best, tta=res.valid_tta, last=res.last)
            r['seconds'] = round(time.time() - t0, 1)
            done[(n, seed)] = r
            with open(log, 'a') as f: f.write(json.dumps(r) + '\n')
            print(json.dumps(r), flush=True)
    print(table(done, names, seeds))
    for seed in seeds:
        r = done.get(('noisy', seed))
        if r and r.get('precision') is not None:
            print(f"noisy selection, seed {seed}: kept {r['n_kept']} of {r['n_noisy']}; correct labels {r['n_kept_correct']}/{r['n_kept']} kept "
                  f"(precision {r['precision']:.2f}) vs {r['n_correct']}/{r['n_noisy']} overall (base rate {r['base_rate']:.2f}), recall {r['recall']:.2f}")

def table(done, names, seeds):
    "The markdown table: valid lwlrap per seed (best epoch, one window), medians of best / last epoch / TTA, change against the reference."
    def med(n, k='lwlrap'):
        v = [done[(n, s)].get(k) for s in seeds if (n, s) in done]
        v = [x for x in v if x is not None]
        return float(np.median(v)) if v else None
    fmt = lambda x: '–' if x is None else f'{x:.3f}'
    delta = lambda n, k: '' if n == 'ref' or med(n, k) is None or med('ref', k) is None else f' ({med(n, k) - med("ref", k):+.3f})'
    rows = ['| variant | change | ' + ' | '.join(f'best, seed {s}' for s in seeds) + ' | median best (Δ) | median last (Δ) | median TTA of best (Δ) |',
            '|' + '---|' * (len(seeds) + 5)]
    for n, what in [('baseline', 'log-mel stats + logistic regression (whole clip, no epochs)')] + [(n, VARIANTS[n][0]) for n in names]:
        cells = [f"{done[(n, s)]['lwlrap']:.3f}" if (n, s) in done else '–' for s in seeds]
        rows.append(f'| {n} | {what} | ' + ' | '.join(cells) + ''.join(f' | {fmt(med(n, k))}{delta(n, k)}' for k in ('lwlrap', 'last', 'tta')) + ' |')
    return '\n'.join(rows)

if __name__ == '__main__': main()
