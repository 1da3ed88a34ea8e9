"README.md is generated from nbs/index.ipynb: it must be up to date, and say what the design card asks for."
import subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def test_readme_is_generated_from_index():
    r = subprocess.run([sys.executable, str(ROOT/'scripts'/'build_readme.py'), '--check'], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr

def test_readme_has_the_two_commands_and_the_tables():
    md = (ROOT/'README.md').read_text()
    assert 'make demo' in md and 'make test' in md
    assert 'pip install -e ".[dev]"' in md
    for needle in ('bench_spectrogram.py', 'bench_augment.py', '| size |'): assert needle in md, needle
