"""Candidates for the CPU recipe, each trained under the same time budget on one fold, scored on that held-out fold.

Every candidate is `TrainConfig.cpu_demo()` with some fields changed, trained with `budget=M` minutes on fold `--fold`
(the plan chooses its epochs and batches), then scored on the fold's clips (which it did not train on) with its last
weights: one window per clip (the per-epoch metric) and slice-max TTA with flip averaging. The test set is not used.
Usage: python scripts/tune_recipe.py ROOT [--minutes 5] [--only a,b] [--out runs_tune]"""
import json, time, warnings
warnings.filterwarnings('ignore', message='.*torch.jit.script.*')
from pathlib import Path
from fastcore.script import call_parse
from audiotag2019.config import TrainConfig
from audiotag2019.learner import open_data
from audiotag2019.train import train, _valid_truth
from audiotag2019.inference import load_model
from audiotag2019.tta import predict_specs
from audiotag2019.loss import lwlrap

CANDIDATES = {  # name → fields changed from `cpu_demo()` (xresnet10 w0.5, 128 px, batch 16, no mixup, bars 3–10 px, zoom 1.2)
    'x10-64': dict(size=64, bs=32, aug=dict(bar_px=[1, 5], max_zoom=1.2)),
    'x10-128': dict(),
    'x10-128-bf16': dict(precision='bf16'),
    'x18w.5-128': dict(arch='xresnet18', bs=32),
    'x10-128-mixup': dict(mixup=True),
    'x10-96': dict(size=96, bs=16, aug=dict(bar_px=[2, 8], max_zoom=1.2)),
}

def tta(run_dir, specs):
    m, _, meta = load_model(run_dir, 'last')
    return predict_specs(m, specs, meta['n_classes'], size=meta['size'], stats=tuple(meta['stats']), progress=False)

@call_parse
def main(root:str, # dataset root
         minutes:float=5, # budget of each candidate
         fold:int=0, # the held-out fold
         only:str=None, # comma-separated candidate names (default: all)
         out:str='runs_tune', # one sub-folder per candidate
         specs:str=None, # spectrogram stores (default ROOT/specs)
        ):
    data = open_data(root, specs, splits=('train_curated',))
    rows = []
    for name in (only.split(',') if only else CANDIDATES):
        cfg = TrainConfig.cpu_demo(fold=fold, budget=minutes, **CANDIDATES[name])
        t0 = time.time()
        r = train(cfg, data, Path(out)/name, overwrite=True, progress=False, valid_predict_fn=tta)
        c = r.cfg
        pace = json.loads((Path(out)/name/'pace.json').read_text())  # the batches actually run
        row = dict(name=name, minutes=round((time.time() - t0) / 60, 2), epochs=c.epochs, images=pace['images'],
                   last=round(r.last, 4), tta=round(r.valid_tta, 4))
        rows.append(row); print(json.dumps(row), flush=True)
    print(f'\n| candidate | fields changed from cpu_demo | minutes | epochs | images seen | held-out lwlrap, one window | held-out lwlrap, TTA |\n|---|---|---:|---:|---:|---:|---:|')
    for r in rows: print(f"| {r['name']} | {CANDIDATES[r['name']] or '—'} | {r['minutes']} | {r['epochs']} | {r['images']:,} | {r['last']:.3f} | {r['tta']:.3f} |")
