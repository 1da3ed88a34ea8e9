"""The recipe tuned on real recordings: each candidate is the whole `audiotag2019 run ROOT OUT --budget M` job, with some
recipe fields changed, on every ROOT given (benchmark datasets in the FSDKaggle2019 layout whose `test_labels.csv` holds the
truth of test clips from sources training never used: e.g. the development benchmark of real recordings built with seeds 0
and 1, and the unseen-source demo). Nothing here reads a test label except through the score a whole job reports.

Jobs run one at a time (a budget is only honest on an otherwise idle machine); each root's stores are built once and shared.
Results go to OUT/tune.json as they finish (a rerun skips what is there; `--redo` runs them again), and the table printed at
the end has each root's test lwlrap, the mean over roots, the out-of-fold lwlrap and the minutes.
While a file OUT/PAUSE exists, the next job waits to start.
Usage: python scripts/tune_real.py --roots /tmp/devbench0,/tmp/devbench1 [--minutes 5] [--only recipe,eq] [--out runs_tune]"""
import json, statistics, time, warnings
warnings.filterwarnings('ignore', message='.*torch.jit.script.*')
from pathlib import Path
from fastcore.script import call_parse
from audiotag2019.job import run_job

AUG = dict(bar_px=[3, 10], max_zoom=1.2)  # the CPU recipe's own augmentation sizes (128 px)
CANDIDATES = {  # name → (run_job arguments, what it tests)
    'recipe': (dict(), "run's default"),
    'eq': (dict(aug={**AUG, 'p_eq': 0.5}), 'a microphone EQ curve and band limits (SpecEQ)'),
    'eq+bg': (dict(aug={**AUG, 'p_eq': 0.5, 'p_bg': 0.3}), 'EQ + another clip as background'),
    'bg': (dict(aug={**AUG, 'p_bg': 0.3}), 'another clip as background'),
    'mixup': (dict(mixup=True), "the method's mixup, U(0, 0.5)"),
    'eq+mixup': (dict(aug={**AUG, 'p_eq': 0.5}, mixup=True), 'EQ + mixup'),
    'lsoft': (dict(noisy_loss='lsoft'), 'kept noisy clips with soft bootstrapping'),
    'folds1': (dict(folds=1), 'one model on everything instead of a fold ensemble'),
    'folds5': (dict(folds=5), 'five folds'),
    'x18': (dict(arch='xresnet18', width=0.5, bs=32), 'xresnet18 w0.5, batch 32'),
    'x10': (dict(arch='xresnet10', width=0.5, bs=16), 'xresnet10 w0.5, batch 16'),
    'aug+': (dict(aug=dict(bar_px=[3, 10], max_zoom=1.5, lighting=0.4)), 'zoom 1.5 and twice the lighting'),
    'eq+aug+': (dict(aug=dict(bar_px=[3, 10], max_zoom=1.5, lighting=0.4, p_eq=0.5)), 'EQ + zoom 1.5 and twice the lighting'),
}

def _row(s, minutes):
    return dict(oof=s['oof_lwlrap'], test=s['test_lwlrap'], baseline=s['baseline_test_lwlrap'], minutes=minutes, config=s['config'],
                kept=(s['selection'] or {}).get('n_kept'), stages=s['minutes'], ran=s.get('stages'))

@call_parse
def main(roots:str, # comma-separated dataset roots, each with test_labels.csv
         minutes:float=5, # the budget of each job
         only:str=None, # comma-separated candidate names (default: all), run in this order
         out:str='runs_tune',
         redo:bool=False): # run again what OUT/tune.json already holds
    roots, out = [Path(r) for r in roots.split(',')], Path(out)
    out.mkdir(parents=True, exist_ok=True)
    res = json.loads((out/'tune.json').read_text()) if (out/'tune.json').exists() else {}
    names = only.split(',') if only else list(CANDIDATES)
    for name in names:
        kw, why = CANDIDATES[name]
        for root in roots:
            key = f'{name}@{root.name}@{minutes:g}'
            if key in res and not redo: continue
            while (out/'PAUSE').exists(): time.sleep(5)
            t0 = time.time()
            s = run_job(root, out/f'{root.name}_{minutes:g}'/name, budget=minutes, specs=out/f'specs_{root.name}', progress='lines', overwrite=True, **kw)
            res[key] = dict(why=why, **_row(s, round((time.time() - t0) / 60, 1)))
            (out/'tune.json').write_text(json.dumps(res, indent=1))
            print(f"== {key}: test {s['test_lwlrap']:.4f} oof {s['oof_lwlrap']} baseline {s['baseline_test_lwlrap']:.4f}", flush=True)
    print(f"\n{minutes:g}-minute jobs | " + ' | '.join(r.name for r in roots) + ' | mean | out-of-fold (mean) | minutes |')
    print('|---|' + '---:|' * (len(roots) + 3))
    for name in names:
        rs = [res.get(f'{name}@{r.name}@{minutes:g}') for r in roots]
        if not all(rs): continue
        print(f"| {name} | " + ' | '.join(f"{r['test']:.3f}" for r in rs) + f" | **{statistics.mean(r['test'] for r in rs):.3f}** | "
              f"{statistics.mean(r['oof'] or 0 for r in rs):.3f} | {max(r['minutes'] for r in rs)} |")
