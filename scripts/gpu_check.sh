#!/usr/bin/env bash
# The GPU check (under 10 minutes on one GPU): the cuda-flagged notebook cells and GPU tests, then the stage timings of
# scripts/gpu_check.py as one table (spectrograms, loaders + augmentation, training step and TTA with the paper config,
# the real `audiotag2019 run` command with the GPU's busy share, and a 2-process torchrun on this machine).
# Usage: scripts/gpu_check.sh [gpu_check.py options]
#        scripts/gpu_check.sh --dry   # any machine, tiny sizes, CPU: checks that the script runs (CI does this)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
if [[ "${1:-}" == "--dry" ]]; then
  exec "$PY" scripts/gpu_check.py --dry --device cpu
fi
"$PY" -c "import torch; assert torch.cuda.is_available(), 'no GPU visible to torch'; print(torch.cuda.get_device_name(0))"
NBDEV_TEST_FLAGS=cuda "$PY" -m pytest -q -p no:cacheprovider tests/test_notebooks.py -k "02_spectrogram or 07d_train or 08_tta" tests/test_tta_edges.py
"$PY" scripts/gpu_check.py "$@"
