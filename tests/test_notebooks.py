"Run every notebook in `nbs/` the way `nbdev_test` does (cells flagged with `tst_flags` are skipped), one pytest test per notebook."
import os
from pathlib import Path
import pytest
from nbdev.config import get_config
from nbdev.test import test_nb as run_nb

ROOT = Path(__file__).resolve().parents[1]
NBS = sorted(p for p in (ROOT/'nbs').rglob('*.ipynb')
             if '.ipynb_checkpoints' not in p.parts and not p.name.startswith('_'))

@pytest.mark.parametrize('nb', NBS, ids=[str(p.relative_to(ROOT/'nbs')) for p in NBS])
def test_notebook(nb, monkeypatch):
    monkeypatch.chdir(ROOT)
    cfg = get_config(path=ROOT)
    skip = cfg.tst_flags.split()
    force = os.environ.get('NBDEV_TEST_FLAGS', '').split()
    ok, secs = run_nb(nb, skip_flags=skip, force_flags=force, basepath=ROOT)
    assert ok, f'{nb.name} failed (traceback above)'
