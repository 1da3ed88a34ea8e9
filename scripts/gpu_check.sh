#!/usr/bin/env bash
# The GPU check (under 10 minutes on one GPU): the cuda-flagged notebook cells and GPU tests, then the stage timings of
# scripts/gpu_check.py as one table (spectrograms, loaders + augmentation, training step and TTA with the paper config,
# the real `audiotag2019 run` command with the GPU's busy share, and a 2-process torchrun on this machine), then
# scripts/bench_job.py: the training stage against its plain step, with its split by phase.
# Usage: scripts/gpu_check.sh [gpu_check.py options]
#        scripts/gpu_check.sh --dry   # any machine, tiny sizes, CPU: checks that the script runs (CI does this)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
if [[ "${1:-}" == "--dry" ]]; then
  "$PY" scripts/gpu_check.py --dry --device cpu
  exec "$PY" scripts/bench_job.py --dry --config paper --device cpu
fi
"$PY" -c "import torch; assert torch.cuda.is_available(), 'no GPU visible to torch'; print(torch.cuda.get_device_name(0))"
NBDEV_TEST_FLAGS=cuda "$PY" -m pytest -q -p no:cacheprovider tests/test_notebooks.py -k "02_spectrogram or 07d_train or 08_tta" tests/test_tta_edges.py
"$PY" scripts/gpu_check.py "$@"
# the job against its step with the paper config: (a) plain loop, (b) Learner, (c) the real stage, and the stage's phases
"$PY" scripts/bench_job.py --config paper --device cuda --epochs 2 --batches 40 --runs 3 --profile
