"README.md is generated from nbs/index.ipynb: it must be up to date, short enough to read to the end, and say what a newcomer needs."
import re, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def test_readme_is_generated_from_index():
    r = subprocess.run([sys.executable, str(ROOT/'scripts'/'build_readme.py'), '--check'], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr

def test_readme_is_short_with_the_commands_one_table_and_the_benchmarks_link():
    md = (ROOT/'README.md').read_text()
    assert len(md.splitlines()) < 150, f'README.md has {len(md.splitlines())} lines: details belong in nbs/benchmarks.ipynb'
    for cmd in ('make demo', 'make test', 'pip install -e ".[dev]"', 'pytest -n 2 tests',
                'audiotag2019 specs', 'audiotag2019 train', 'audiotag2019 predict', 'audiotag2019 ensemble'):
        assert cmd in md, cmd
    # one results table (lwlrap by budget), the table of how the recipe was chosen, and the notebook table
    tables = re.findall(r'^\|.*\|\n\|[-:| ]+\|$', md, flags=re.M)
    assert len(tables) == 3 and sum(t.startswith('| budget') for t in tables) == 1 and sum(t.startswith('| candidate') for t in tables) == 1, tables
    assert re.search(r'\]\([^)]*benchmarks\.html\)', md) and 'nbs/benchmarks.ipynb' in md
    assert (ROOT/'nbs'/'benchmarks.ipynb').is_file()
    assert not re.search(r'\[\[[^\]]*\]\([^)]*\)\]\(', md), 'a link inside a link: write plain `name` in nbs/index.ipynb, the docs link it'

def test_readme_lists_every_notebook():
    "The notebook table names every numbered notebook of nbs/ and nothing that is not there."
    md = (ROOT/'README.md').read_text()
    table = md[md.index('## The notebooks'):]
    named = set(re.findall(r'^\|[^|]*\| `([\w/]+)` \|', table, flags=re.M))
    have = {p.stem for p in (ROOT/'nbs').glob('[0-9]*.ipynb')}
    assert have <= named, f'notebooks missing from the README table: {sorted(have - named)}'
    numbered = {n for n in named if re.match(r'\d', n)}
    assert numbered <= have, f'README table names notebooks that do not exist: {sorted(numbered - have)}'
    assert {'benchmarks', 'tutorials/'} <= named
