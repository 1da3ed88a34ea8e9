"""TTA variants on finished jobs, paired: the same trained models of `audiotag2019 run ROOT JOB`, their test clips predicted with
each combination of slice reduction (the method's max, or mean) and flip averaging (on, the method, or off), and scored like
`run` scores its own submission (`ensemble.score_submission` against ROOT/test_labels.csv). Nothing trains; the models are the
ones the job's `runs/ensemble.json` names (or its fold ensemble). A benchmark script: it prints figures, it chooses nothing.

Usage: python scripts/tta_variants.py --jobs JOB0,JOB1 --roots ROOT0,ROOT1 [--specs SPECS0,SPECS1]"""
import json, statistics, warnings
warnings.filterwarnings('ignore', message='.*torch.jit.script.*')
from pathlib import Path
from fastcore.script import call_parse
from audiotag2019.inference import predict_folder, run_dirs
from audiotag2019.ensemble import score_submission

VARIANTS = [('max', True), ('mean', True), ('max', False), ('mean', False)]  # (slice reduction, flip averaging); the first is the method

@call_parse
def main(jobs:str=None, # comma-separated job folders of `audiotag2019 run` (each with runs/)
         roots:str=None, # the dataset root of each job, same order, with test_labels.csv
         specs:str=None): # the spectrogram store folder of each root (default: JOB/specs)
    if not (jobs and roots): raise SystemExit('--jobs and --roots are required')
    jobs, roots = [Path(j) for j in jobs.split(',')], [Path(r) for r in roots.split(',')]
    specs = [Path(s) for s in specs.split(',')] if specs else [j/'specs' for j in jobs]
    if not len(jobs) == len(roots) == len(specs): raise SystemExit('give one root (and one specs folder) per job')
    res = {}
    for job, root, sp in zip(jobs, roots, specs):
        truth = root/'test_labels.csv'
        if not truth.exists(): raise SystemExit(f'{root}: no test_labels.csv')
        runs = run_dirs(job/'runs')
        own = json.loads((job/'summary.json').read_text()).get('test_lwlrap') if (job/'summary.json').exists() else None
        for reduce, flips in VARIANTS:
            tab, _ = predict_folder(runs, root, sp, reduce=reduce, flips=flips, progress=False)
            res[job, reduce, flips] = score_submission(tab, truth)
            print(f'{job}: {len(runs)} models, slice {reduce}, flips {"on" if flips else "off"}: test lwlrap {res[job, reduce, flips]:.4f}'
                  + (f'  (the job reported {own:.4f})' if own is not None and (reduce, flips) == VARIANTS[0] else ''), flush=True)
    print('\n| slice reduction | flip averaging | ' + ' | '.join(j.name if j.name not in ('recipe', 'job') else j.parent.name for j in jobs) + ' | mean |')
    print('|---|---|' + '---:|' * (len(jobs) + 1))
    for reduce, flips in VARIANTS:
        v = [res[j, reduce, flips] for j in jobs]
        print(f'| {reduce} | {"on" if flips else "off"} | ' + ' | '.join(f'{x:.3f}' for x in v) + f' | **{statistics.mean(v):.3f}** |')
