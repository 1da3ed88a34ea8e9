"""lwlrap against a time budget: `audiotag2019 run ROOT OUT --budget M` for each budget M, on data whose test clips come
from sources training never used.

ROOT (default): the unseen-source demo dataset at the tuning scale, seed 0 — `demo_dataset('big', seed=0, variant='unseen')`:
600 curated and 600 noisy clips, 25 classes, 300 test clips from held-out soundfont programs, voices and synthesisers,
recorded in rooms of their own. The recipe was chosen on seed 1 of the same variant (`scripts/tune_unseen.py`), never on
this dataset's test clips. For each budget the whole job runs as a user would run it (stores, curated model, noisy
selection, fold ensemble, TTA, submission); printed: the job's minutes, its out-of-fold lwlrap, its test lwlrap, the
gap between them, and the baseline (log-mel statistics + logistic regression on every curated clip) on the same test set.
Usage: python scripts/budget_table.py [--root ROOT] [--budgets 5,10,25] [--out runs_budget] [--seed 0]"""
import json, time, warnings
warnings.filterwarnings('ignore', message='.*torch.jit.script.*')
from pathlib import Path
from fastcore.script import call_parse
from audiotag2019.demo import demo_dataset
from audiotag2019.job import run_job

@call_parse
def main(root:str=None, # a dataset root with test_labels.csv (default: the unseen-source demo, 'big', seed --seed)
         budgets:str='5,10,25', # minutes, comma-separated
         out:str='runs_budget',
         seed:int=0): # the demo dataset's seed (the recipe was tuned on seed 1)
    root = Path(root) if root else demo_dataset('big', seed=seed, variant='unseen', progress=True)
    out, rows = Path(out), {}
    if (out/'table.json').exists(): rows = json.loads((out/'table.json').read_text())
    for m in [float(b) for b in budgets.split(',')]:
        t0 = time.time()
        s = run_job(root, out/f'b{m:g}', budget=m, specs=out/'specs', progress='lines', resume=True)
        rows[f'{m:g}'] = dict(minutes=round((time.time() - t0) / 60, 1), oof=s['oof_lwlrap'], test=s['test_lwlrap'], baseline=s['baseline_test_lwlrap'],
                              kept=s['selection']['n_kept'] if s['selection'] else None, config=s['config'], stages=s['minutes'])
        out.mkdir(parents=True, exist_ok=True); (out/'table.json').write_text(json.dumps(rows, indent=1))
    print(f'\n{root}\n| budget | job took | out-of-fold lwlrap | test lwlrap (unseen sources) | gap | baseline test | model |\n|---:|---:|---:|---:|---:|---:|---|')
    for m, r in rows.items():
        c = r['config']
        print(f"| {m} min | {r['minutes']} min | {r['oof']:.3f} | **{r['test']:.3f}** | {r['oof'] - r['test']:+.3f} | {r['baseline']:.3f} | "
              f"{c['arch']} w{c['width']:g}, {c['size']} px, {c['epochs']} epochs{', mixup' if c['mixup'] else ''} |")
