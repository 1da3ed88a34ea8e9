#!/usr/bin/env python
"""Write README.md from nbs/index.ipynb without Quarto (what `nbdev_readme` does with it).

The notebook goes through nbdev's docs processing (hidden cells dropped, directives removed, frontmatter
from the `# Title` / `> description` cell), then becomes GitHub markdown: markdown cells as they are,
code cells as python blocks, text outputs as plain blocks.

    python scripts/build_readme.py [--check]     # --check: exit 1 if README.md is not up to date
"""
import argparse, sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_docs import process_notebook, _apply_quarto, ROOT

def _text(o):
    if o.get('output_type') == 'stream': return ''.join(o.get('text', ''))
    data = o.get('data', {})
    return ''.join(data.get('text/markdown', '')) or ''.join(data.get('text/plain', ''))

def readme_markdown(nb_path=ROOT/'nbs'/'index.ipynb'):
    "The README text of `nb_path`."
    d, fm, _ = process_notebook(nb_path, nb_path.parent)
    parts = [f"# {fm.get('title', 'audiotag2019')}"]
    if fm.get('description'): parts.append(f"> {fm['description']}")
    for c in d['cells']:
        if c['cell_type'] == 'code' and not _apply_quarto(c): continue
        src = ''.join(c['source']) if isinstance(c['source'], list) else c['source']
        if c['cell_type'] == 'markdown':
            if src.strip(): parts.append(src.strip())
        elif c['cell_type'] == 'code':
            if src.strip(): parts.append(f'```python\n{src.strip()}\n```')
            outs = [t for t in map(_text, c.get('outputs', [])) if t.strip()]
            if outs: parts.append('    ' + '\n'.join(outs).strip().replace('\n', '\n    '))
    return '\n\n'.join(parts) + '\n'

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--check', action='store_true')
    a = ap.parse_args()
    md, out = readme_markdown(), ROOT/'README.md'
    if a.check:
        if out.read_text() != md: sys.exit('README.md is out of date with nbs/index.ipynb: run `make readme`')
        print('README.md is up to date')
    else:
        out.write_text(md); print(f'wrote {out} ({len(md)} characters)')
