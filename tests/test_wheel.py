"""The offline install a Kaggle kernel uses: build the wheel, then `pip install --no-index` it from a folder.

The new environment sees this environment's packages (as a Kaggle image brings its own torch, fastai, librosa),
so `--no-index` must succeed with nothing downloaded, and the installed command must run."""
import os, subprocess, sys, site, sysconfig
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]

def _run(*cmd, **kw):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    assert r.returncode == 0, f'{cmd}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}'
    return r

def test_wheel_installs_offline(tmp_path):
    wheels = tmp_path/'wheels'
    _run(sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '-w', wheels, ROOT)
    whl = list(wheels.glob('audiotag2019-*.whl'))
    assert len(whl) == 1, list(wheels.iterdir())
    env = tmp_path/'venv'
    _run(sys.executable, '-m', 'venv', '--without-pip', env)
    py = env/'bin'/'python'
    purelib = _run(py, '-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])').stdout.strip()
    # the installed dependencies of this environment stand in for a Kaggle image's own packages
    Path(purelib, 'host_packages.pth').write_text(sysconfig.get_paths()['purelib'] + '\n')
    # --force-reinstall: this environment's own (editable) audiotag2019 is visible through the .pth as well
    _run(py, '-m', 'pip', 'install', '--no-index', '--find-links', wheels, '--force-reinstall', '--no-deps', 'audiotag2019')
    r = _run(py, '-m', 'pip', 'check')  # every requirement the wheel declares is met without downloading anything
    r = _run(py, '-c', 'import audiotag2019, audiotag2019.cli as c; print(audiotag2019.__file__, audiotag2019.__version__)', cwd=tmp_path)
    assert str(env) in r.stdout, r.stdout  # imported from the wheel, not from the source tree
    r = _run(env/'bin'/'audiotag2019', '--help', cwd=tmp_path)
    assert 'demo' in r.stdout
