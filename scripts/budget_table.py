"""lwlrap against a time budget: `audiotag2019 train ROOT RUN --fold cv --budget M` (the CPU recipe) for each budget M.

For each budget the whole cross-validation job (every fold, its out-of-fold predictions) runs under `--budget M`; then
- out-of-fold lwlrap: every curated clip scored by the fold model that did not train on it (one window per clip, last weights);
- test lwlrap of the fold ensemble (slice-max TTA with flip averaging, the folds' probabilities averaged: `predict RUN`)
  and, for comparison, of each fold's model alone (the mean over folds): the difference is what the fold ensemble adds;
- the baseline (log-mel statistics + one-vs-rest logistic regression): out-of-fold over the same folds, and on the test set
  trained on every curated clip.
The test set is scored only here, after training; nothing is chosen on it.
Usage: python scripts/budget_table.py ROOT [--budgets 5,10,20,40] [--out runs_budget] [--n_folds 5]
(ROOT: a dataset in the FSDKaggle2019 layout with `test_labels.csv`, e.g. `audiotag2019 demo-data big --size 4 --noisy 4`)."""
import json, time, warnings
warnings.filterwarnings('ignore', message='.*torch.jit.script.*')
from pathlib import Path
import numpy as np
import pandas as pd
from fastcore.script import call_parse
from audiotag2019.core import load_dataset
from audiotag2019.data import multilabel_folds, fold_split, SpecList
from audiotag2019.learner import open_data
from audiotag2019.cli import train_cli
from audiotag2019.baseline import logmel_stats, baseline_model
from audiotag2019.inference import run_dirs
from audiotag2019.cli import predict_folder
from audiotag2019.ensemble import score_submission
from audiotag2019.loss import lwlrap

def baseline(ds, stores, n_folds, seed=0):
    "Out-of-fold and test lwlrap of log-mel statistics + logistic regression (the same folds as training)."
    cur, y = stores['train_curated'], ds.targets('train_curated')
    X = logmel_stats(SpecList((cur, [cur.lookup(f) for f in ds.curated.fname])))
    folds, oof = multilabel_folds(y, n_folds, seed), np.zeros(y.shape)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        for f in range(n_folds):
            tr, va = fold_split(folds, f)
            oof[va] = baseline_model().fit(X[tr], y[tr]).predict_proba(X[va])
        te = stores['test']
        p = baseline_model().fit(X, y).predict_proba(logmel_stats([te.get(f) for f in ds.test.fname]))
    tab = pd.DataFrame(p, columns=ds.vocab); tab.insert(0, 'fname', ds.test.fname.values)
    return lwlrap(oof, y), score_submission(tab, Path(ds.root)/'test_labels.csv')

@call_parse
def main(root:str, # dataset root with test_labels.csv
         budgets:str='5,10,20,40', # minutes, comma-separated
         out:str='runs_budget', # one sub-folder per budget
         specs:str=None, # spectrogram stores (default ROOT/specs)
         n_folds:int=5, # folds of the cross-validation
        ):
    ds, stores = open_data(root, specs, splits=('train_curated', 'train_noisy', 'test'))
    truth = Path(root)/'test_labels.csv'
    print(f'{ds}: {len(ds.curated)} curated, {len(ds.noisy) if ds.noisy is not None else 0} noisy, {len(ds.test)} test clips', flush=True)
    b_oof, b_test = baseline(ds, stores, n_folds)
    print(f'baseline (log-mel statistics + logistic regression): out-of-fold {b_oof:.4f}, test {b_test:.4f}', flush=True)
    rows = []
    for m in [float(x) for x in budgets.split(',')]:
        run = Path(out)/f'budget{m:g}'
        t0 = time.time()
        r = train_cli(root, str(run), specs=specs, fold='cv', n_folds=n_folds, budget=m, quiet=True, overwrite=True)
        secs = time.time() - t0
        cfg = json.loads((run_dirs(run)[0]/'config.json').read_text())['config']
        tst = Path(out)/'test_specs'  # the test clips' store, built once
        ens, _ = predict_folder(str(run), root, specs_dir=tst, progress=False)
        singles = [score_submission(predict_folder(str(d), root, specs_dir=tst, progress=False)[0], truth) for d in run_dirs(run)]
        row = dict(budget=m, minutes=secs / 60, model=f"{cfg['arch']} w{cfg['width']:g}, {cfg['size']} px, batch {cfg['bs']}, {cfg['precision']}",
                   epochs=cfg['epochs'], oof=r['lwlrap'], test_ens=score_submission(ens, truth), test_single=float(np.mean(singles)),
                   test_single_sd=float(np.std(singles)))
        rows.append(row)
        print(json.dumps(row), flush=True)
    print(f'\n| budget | job took | model (CPU recipe) | out-of-fold lwlrap | test lwlrap, one fold model (mean ± sd) | test lwlrap, {n_folds}-fold ensemble | ensemble adds |')
    print('|---:|---:|---|---:|---:|---:|---:|')
    print(f'| — | — | baseline: log-mel statistics + logistic regression | {b_oof:.3f} | {b_test:.3f} | — | — |')
    for r in rows:
        print(f"| {r['budget']:g} min | {r['minutes']:.1f} min | {r['model']} | {r['oof']:.3f} | {r['test_single']:.3f} ± {r['test_single_sd']:.3f} | "
              f"**{r['test_ens']:.3f}** | {r['test_ens'] - r['test_single']:+.3f} |")
