"""The recipe tuned on real recordings: each candidate is the whole `audiotag2019 run ROOT OUT --budget M` job, with some
recipe fields changed, on every ROOT given (benchmark datasets in the FSDKaggle2019 layout whose `test_labels.csv` holds the
truth of test clips from sources training never used: e.g. the development benchmark of real recordings built with seeds 0
and 1, and the unseen-source demo). Nothing here reads a test label except through the score a whole job reports.

Jobs run one at a time (a budget is only honest on an otherwise idle machine); each root's stores are built once and shared.
Results go to OUT/tune.json as they finish (a rerun skips what is there; `--redo` runs them again), and the table printed at
the end has each root's test lwlrap, the mean over roots, the out-of-fold lwlrap and the minutes.
While a file OUT/PAUSE exists, the next job waits to start.
Usage: python scripts/tune_real.py --roots /tmp/devbench0,/tmp/devbench1 [--minutes 5 | --plan 12x102] [--only recipe,eq] [--out runs_tune]"""
import json, statistics, time, warnings
warnings.filterwarnings('ignore', message='.*torch.jit.script.*')
from pathlib import Path
from fastcore.script import call_parse
from audiotag2019.job import run_job

AUG = dict(bar_px=[2, 10], max_zoom=1.2)  # the CPU recipe's own augmentation sizes (128 px: the method's 5–20 px halved and rounded)
CANDIDATES = {  # name → (run_job arguments, what it tests)
    'recipe': (dict(), "run's default"),
    'eq': (dict(aug={**AUG, 'p_eq': 0.5}), 'a microphone EQ curve and band limits (SpecEQ)'),
    'eq+bg': (dict(aug={**AUG, 'p_eq': 0.5, 'p_bg': 0.3}), 'EQ + another clip as background'),
    'bg': (dict(aug={**AUG, 'p_bg': 0.3}), 'another clip as background'),
    'mixup': (dict(mixup=True), "the method's mixup, U(0, 0.5)"),
    'eq+mixup': (dict(aug={**AUG, 'p_eq': 0.5}, mixup=True), 'EQ + mixup'),
    'shift': (dict(aug={**AUG, 'p_shift': 0.5}), 'a pitch shift of up to 8 mel bands (SpecShift)'),
    'shift+mixup': (dict(aug={**AUG, 'p_shift': 0.5}, mixup=True), 'pitch shift + mixup'),
    'shift+eq': (dict(aug={**AUG, 'p_shift': 0.5, 'p_eq': 0.5}), 'pitch shift + EQ'),
    'lsoft': (dict(noisy_loss='lsoft'), 'kept noisy clips with soft bootstrapping'),
    'folds1': (dict(folds=1), 'one model on everything instead of a fold ensemble'),
    'cur': (dict(with_curated=True), 'the curated model (the noisy stage\'s judge) joins the fold average'),
    'mix3': (dict(mixtures=0.3), 'mixtures tagged with both clips (MixUnion), p 0.3'),
    'mix5': (dict(mixtures=0.5), 'mixtures tagged with both clips (MixUnion), p 0.5'),
    'noflips': (dict(flips=False), 'no flips as new labels: C outputs, every image as recorded'),
    'folds1+cur': (dict(folds=1, with_curated=True), 'one model on everything, averaged with the curated model'),
    'folds5': (dict(folds=5), 'five folds'),
    'x18': (dict(arch='xresnet18', width=0.5, bs=32), 'xresnet18 w0.5, batch 32'),
    'x10': (dict(arch='xresnet10', width=0.5, bs=16), 'xresnet10 w0.5, batch 16'),
    'aug+': (dict(aug=dict(bar_px=[2, 10], max_zoom=1.5, lighting=0.4)), 'zoom 1.5 and twice the lighting'),
    'band': (dict(band_norm=True), "each mel band's mean over time subtracted first (BandNorm): a microphone's EQ cancels"),
    'drop3': (dict(dropout=0.3), 'dropout 0.3 before the last layer'),
    'band+drop3': (dict(band_norm=True, dropout=0.3), 'BandNorm + dropout 0.3'),
    'flips': (dict(flips=True), "the method's flips as labels (the CPU recipe before it dropped them)"),
    'noflips+mixup': (dict(flips=False, mixup=True), "no flips as labels + the method's mixup"),
    'lr2': (dict(lr_max=0.02), 'one-cycle peak learning rate 0.02 (recipe 0.01)'),
    'lr05': (dict(lr_max=0.005), 'one-cycle peak learning rate 0.005 (recipe 0.01)'),
    'bs8': (dict(bs=8), 'batch 8 (recipe 16): twice the updates per image'),
    'eq+aug+': (dict(aug=dict(bar_px=[2, 10], max_zoom=1.5, lighting=0.4, p_eq=0.5)), 'EQ + zoom 1.5 and twice the lighting'),
}

def _row(s, minutes):
    return dict(oof=s['oof_lwlrap'], test=s['test_lwlrap'], baseline=s['baseline_test_lwlrap'], minutes=minutes, config=s['config'],
                kept=(s['selection'] or {}).get('n_kept'), stages=s['minutes'], ran=s.get('stages'))

@call_parse
def main(roots:str=None, # comma-separated dataset roots, each with test_labels.csv (required)
         minutes:float=5, # the budget of each job
         only:str=None, # comma-separated candidate names (default: all), run in this order
         out:str='runs_tune',
         redo:bool=False, # run again what OUT/tune.json already holds
         plan:str=None, # 'EPOCHSxBATCHES' (e.g. 12x102): no budget, every stage this long (a screen that the machine's load cannot change)
         model:str='xresnet10,0.5,16'): # with --plan: arch,width,batch of every candidate that does not set its own
    if not roots: raise SystemExit("--roots is required: comma-separated dataset roots with test_labels.csv")
    roots, out = [Path(r) for r in roots.split(',')], Path(out)
    out.mkdir(parents=True, exist_ok=True)
    res = json.loads((out/'tune.json').read_text()) if (out/'tune.json').exists() else {}
    names = only.split(',') if only else list(CANDIDATES)
    tag, fixed = f'{minutes:g}', {}
    if plan:
        e, b = (int(v) for v in plan.split('x')); a, w, bs = model.split(',')
        tag, fixed = f'plan{plan}', dict(epochs=e, n_batches=b, arch=a, width=float(w), bs=int(bs))
    for name in names:
        kw, why = CANDIDATES[name]
        for root in roots:
            key = f'{name}@{root.name}@{tag}'
            if key in res and not redo: continue
            while (out/'PAUSE').exists(): time.sleep(5)
            t0 = time.time()
            s = run_job(root, out/f'{root.name}_{tag}'/name, budget=None if plan else minutes, specs=out/f'specs_{root.name}', progress='lines',
                        overwrite=True, **{**fixed, **kw})
            res[key] = dict(why=why, **_row(s, round((time.time() - t0) / 60, 1)))
            (out/'tune.json').write_text(json.dumps(res, indent=1))
            print(f"== {key}: test {s['test_lwlrap']:.4f} oof {s['oof_lwlrap']} baseline {s['baseline_test_lwlrap']:.4f}", flush=True)
    print(f"\n{tag} | " + ' | '.join(r.name for r in roots) + ' | mean | out-of-fold (mean) | minutes |')
    print('|---|' + '---:|' * (len(roots) + 3))
    for name in names:
        rs = [res.get(f'{name}@{r.name}@{tag}') for r in roots]
        if not all(rs): continue
        print(f"| {name} | " + ' | '.join(f"{r['test']:.3f}" for r in rs) + f" | **{statistics.mean(r['test'] for r in rs):.3f}** | "
              f"{statistics.mean(r['oof'] or 0 for r in rs):.3f} | {max(r['minutes'] for r in rs)} |")
