#!/usr/bin/env python
"""Build the documentation site from `nbs/` without Quarto.

Every notebook is processed the way `nbdev_docs` processes it before handing it to Quarto (nbdev's own
processors: frontmatter from the `# Title` / `> description` cell, `show_doc` cards for exported names,
hidden cells removed, directive comments dropped, links to the API), then rendered with nbconvert's
`basic` template into one self-contained page (images as data URIs, no network resources) inside a
shared layout with a sidebar and previous/next links.

    python scripts/build_docs.py [--out _site] [--nbs nbs] [--check] [--screenshots DIR]

`--check` then opens every page in headless Chromium and checks that it renders with its images.
The GitHub Pages site is built by Quarto (`nbdev_docs`, .github/workflows/deploy.yaml); this one needs
nothing beyond the dev requirements.
"""
import argparse, base64, fcntl, html, json, os, re, select, shutil, subprocess, sys, tempfile, time, warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMG_MIMES = ('image/png', 'image/jpeg', 'image/gif', 'image/svg+xml')

# ---------------------------------------------------------------------------------------------------------
# Finding notebooks and naming pages (as nbdev_sidebar and Quarto do)

def _skipped(rel):
    return any(p.startswith(('_', '.')) for p in rel.parts) or '.ipynb_checkpoints' in rel.parts

def find_notebooks(nbs):
    "Notebooks under `nbs` in sidebar order: top level first (index first), then each sub-folder."
    nbs = Path(nbs)
    files = [p for p in nbs.rglob('*.ipynb') if not _skipped(p.relative_to(nbs))]
    def key(p):
        rel = p.relative_to(nbs)
        return (len(rel.parts) > 1, rel.parent.as_posix(), '00' if p.stem == 'index' else p.name)
    return sorted(files, key=key)

def page_name(rel):
    "Output page of notebook `rel` (relative to nbs): nbdev drops the number prefix, `00_core.ipynb` -> `core.html`."
    return rel.with_name(re.sub(r'^\d+[a-zA-Z0-9]*_', '', rel.name.lower())).with_suffix('.html')

def section_name(folder):
    return re.sub(r'^\d+_', '', folder).replace('_', ' ')

# ---------------------------------------------------------------------------------------------------------
# nbdev processing

_quarto_dir = re.compile(r'^\s*#\|\s*([\w-]+)\s*:\s*(.*?)\s*$')

def _procs():
    "nbdev's docs processors, except that exported cells keep their source (folded under the API card)."
    from nbdev.processors import FilterDefaults, insert_warning, rm_export, add_fold, mv_exports, exec_show_docs
    def rm_hidden(cell):
        "Remove `hide`/`default_exp` cells (nbdev's `rm_export`, keeping exported cells)"
        if cell.directives_ and cell.directives_.keys() & {'hide', 'default_exp'}: del cell['source']
    def fold_exports(cell):
        "Show exported source folded under its API card (open for `export(s)`, closed for `exporti`)"
        if cell.cell_type != 'code' or not cell.directives_: return
        d = cell.directives_.keys()
        if d & {'export', 'exports'}: fold = 'show'
        elif 'exporti' in d: fold = 'true'
        else: return
        cell.source = f'#| code-fold: {fold}\n#| code-summary: "Exported source"\n{cell.source}'
    class docs_first:
        "Move exported source after the `show_doc` cards that follow it (nbdev's `mv_exports`, for all of them)"
        def __init__(self, nb): self.nb = nb
        def begin(self):
            cells = self.nb.cells
            idxs = [i for i, c in enumerate(cells) if c.cell_type == 'code' and c.directives_.keys() & {'export', 'exports'}]
            for i in reversed(idxs):
                j = i + 1
                while j < len(cells) and getattr(cells[j], 'has_sd', 0): j += 1
                if j > i + 1: cells[i:j] = cells[i + 1:j] + [cells[i]]
        def __call__(self, cell): pass
    class exec_docs(exec_show_docs):
        "nbdev's `exec_show_docs`, but a failing cell is reported instead of stopping the build"
        def __call__(self, cell):
            try: super().__call__(cell)
            except Exception as e:
                err = self.k.exc
                self.k.exc = None
                self.nb.problems_ = getattr(self.nb, 'problems_', []) + [
                    f'cell {cell.idx_} ({cell.source.strip().splitlines()[-1][:60]!r}): {type(err).__name__}: {err}']
        def end(self):
            super().end()
            if k := getattr(self, 'k', None):  # this shell is done: skip IPython's slow exit-time cleanup of it
                import atexit
                atexit.unregister(k.atexit_operations)
                try: k.history_manager.save_thread.stop()
                except Exception: pass
    swap = {rm_export: rm_hidden, add_fold: fold_exports, mv_exports: docs_first, exec_show_docs: exec_docs}
    return [swap.get(p, p) for p in FilterDefaults().procs() if p is not insert_warning]

def process_notebook(path, nbs):
    "Run nbdev's docs processors on `path`; returns (plain notebook dict, frontmatter dict)."
    from execnb.nbio import read_nb, nb2dict
    from nbdev.process import NBProcessor
    nb = read_nb(path)
    widgets = json.loads(json.dumps(nb.get('metadata', {}).get('widgets', {})))
    from nbdev.config import get_config
    get_config()  # (cached) found from the repository root before moving into the notebook's folder
    cwd, os.environ['IN_TEST'] = os.getcwd(), '1'  # as nbdev's processing driver does
    os.chdir(Path(path).parent)  # cells run for `show_doc` see the folder the notebook was written in
    try: NBProcessor(nb=nb, procs=_procs()).process()
    finally: os.environ.pop('IN_TEST', None); os.chdir(cwd)
    fm = dict(getattr(nb, 'frontmatter_', {}) or {})
    fm['problems'] = getattr(nb, 'problems_', [])
    d = nb2dict(nb)
    cells = d['cells']
    if cells and cells[0]['cell_type'] == 'raw' and ''.join(cells[0]['source']).startswith('---'): cells.pop(0)
    d['metadata'].pop('widgets', None)  # the live widget manager state is replaced by static snapshots below
    return d, fm, widgets

def _apply_quarto(cell):
    "Apply (and remove) the Quarto cell options nbdev leaves in a cell's source; False if the cell is dropped."
    src = ''.join(cell['source']) if isinstance(cell['source'], list) else cell['source']
    lines = src.splitlines()
    opts = {}
    while lines and (m := _quarto_dir.match(lines[0])):
        opts[m.group(1).lower()] = m.group(2).strip('"\'')
        lines.pop(0)
    src = '\n'.join(lines).strip('\n')
    if str(opts.get('include', '')).lower() == 'false': return False
    tags = cell.setdefault('metadata', {}).setdefault('tags', [])
    if str(opts.get('echo', '')).lower() == 'false': src = ''
    if str(opts.get('output', '')).lower() == 'false': cell['outputs'] = []
    if 'code-fold' in opts:
        tags.append('fold-open' if opts['code-fold'].lower() == 'show' else 'fold')
        cell['metadata']['fold_summary'] = opts.get('code-summary', 'Code')
    cell['source'] = src
    return True

_re_attr_link = re.compile(r'\[([^\]]*)\]\(([^)\s]+)\)\{([^}]*)\}')

def _fix_pandoc_links(md):
    "`[source](url){target=...}` (Pandoc attributes) -> an HTML link."
    return _re_attr_link.sub(r'[\1](\2)', md)

# ---------------------------------------------------------------------------------------------------------
# Widgets: a static snapshot from the saved widget state (no JavaScript, no CDN)

def _output_html(o):
    "Render one saved output (in a widget's state) as HTML."
    if o.get('output_type') == 'stream':
        return f'<pre class="w-stream">{html.escape("".join(o.get("text", "")))}</pre>'
    data = o.get('data', {})
    for m in IMG_MIMES:
        if m in data:
            if m == 'image/svg+xml': return ''.join(data[m])
            return f'<img src="data:{m};base64,{"".join(data[m]).strip()}" alt="widget output">'
    if 'text/html' in data: return ''.join(data['text/html'])
    if 'text/plain' in data: return f'<pre>{html.escape("".join(data["text/plain"]))}</pre>'
    return ''

def widget_html(mid, state, depth=0):
    "Static HTML of widget `mid` (and its children) from the notebook's widget state."
    m = state.get(mid)
    if m is None or depth > 20: return ''
    name, s = m.get('model_name', ''), m.get('state', {})
    kid = lambda c: widget_html(c.replace('IPY_MODEL_', ''), state, depth + 1)
    desc = html.escape(str(s.get('description', '')))
    lab = f'<span class="w-label">{desc}</span>' if desc else ''
    if name in ('VBoxModel', 'HBoxModel', 'BoxModel', 'GridBoxModel'):
        cls = 'w-hbox' if name == 'HBoxModel' else 'w-vbox'
        return f'<div class="{cls}">' + ''.join(kid(c) for c in s.get('children', [])) + '</div>'
    if name in ('TabModel', 'AccordionModel', 'StackModel'):
        titles = s.get('titles') or []
        return '<div class="w-vbox">' + ''.join(
            f'<div class="w-tab"><b>{html.escape(str(titles[i]) if i < len(titles) else "")}</b>{kid(c)}</div>'
            for i, c in enumerate(s.get('children', []))) + '</div>'
    if name == 'OutputModel':
        return '<div class="w-output">' + ''.join(_output_html(o) for o in s.get('outputs', [])) + '</div>'
    if 'Slider' in name or name.endswith('ProgressModel'):
        v = s.get('value')
        if isinstance(v, list): shown = ' – '.join(map(str, v))
        elif 'index' in s and s.get('_options_labels'): shown = s['_options_labels'][s['index']]
        else: shown = v
        rng = ''
        if isinstance(v, (int, float)) and 'max' in s:
            rng = (f'<input type="range" disabled min="{s.get("min", 0)}" max="{s["max"]}" '
                   f'step="{s.get("step", 1)}" value="{v}">')
        return f'<div class="w-control">{lab}{rng}<span class="w-value">{html.escape(str(shown))}</span></div>'
    if name in ('DropdownModel', 'SelectModel', 'RadioButtonsModel', 'SelectMultipleModel'):
        labels, idx = s.get('_options_labels', []), s.get('index')
        idx = set(idx) if isinstance(idx, list) else {idx}
        opts = ''.join(f'<option{" selected" if i in idx else ""}>{html.escape(str(l))}</option>'
                       for i, l in enumerate(labels))
        return f'<div class="w-control">{lab}<select disabled>{opts}</select></div>'
    if name == 'ToggleButtonsModel':
        labels, idx = s.get('_options_labels', []), s.get('index')
        b = ''.join(f'<button disabled class="{"w-on" if i == idx else ""}">{html.escape(str(l))}</button>'
                    for i, l in enumerate(labels))
        return f'<div class="w-control">{lab}{b}</div>'
    if name in ('CheckboxModel', 'ToggleButtonModel'):
        chk = ' checked' if s.get('value') else ''
        return f'<div class="w-control">{lab}<input type="checkbox" disabled{chk}></div>'
    if name in ('HTMLModel', 'HTMLMathModel'): return f'<div class="w-control">{lab}{s.get("value", "")}</div>'
    if name in ('LabelModel', 'TextModel', 'TextareaModel', 'IntTextModel', 'FloatTextModel',
                'BoundedIntTextModel', 'BoundedFloatTextModel'):
        return f'<div class="w-control">{lab}<span class="w-value">{html.escape(str(s.get("value", "")))}</span></div>'
    if name == 'ButtonModel': return f'<div class="w-control"><button disabled>{desc}</button></div>'
    return f'<div class="w-control w-other">{html.escape(name.replace("Model", ""))}</div>'

def _snapshot(data, widgets):
    "Replace a widget view in an output's `data` by its static snapshot."
    st = widgets.get('application/vnd.jupyter.widget-state+json', {}).get('state', {})
    mid = data.pop('application/vnd.jupyter.widget-view+json', {}).get('model_id')
    inner = widget_html(mid, st) if mid in st else ''
    if not inner: return  # no saved state: keep the text/plain fallback
    data.pop('text/plain', None)
    data['text/html'] = ('<div class="widget-snapshot" title="Static snapshot: run the notebook to use the controls">'
                         '<div class="w-note">interactive widget — static snapshot</div>' + inner + '</div>')

# ---------------------------------------------------------------------------------------------------------
# Rendering

_TEMPLATE = r"""{%- extends 'classic/base.html.j2' -%}
{% block input_group -%}
{%- if cell.source.strip() -%}
{%- if 'fold' in cell.metadata.get('tags', []) or 'fold-open' in cell.metadata.get('tags', []) -%}
<details class="code-fold"{% if 'fold-open' in cell.metadata.get('tags', []) %} open{% endif %}><summary>{{ cell.metadata.get('fold_summary', 'Code') | escape_html }}</summary>
{{ super() }}</details>
{%- else -%}
{{ super() }}
{%- endif -%}
{%- endif -%}
{% endblock input_group %}
{% block body_header %}{% endblock body_header %}
{% block body_footer %}{% endblock body_footer %}
"""

def _exporter():
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter
    ex = HTMLExporter(template_name='basic', extra_loaders=[DictLoader({'site.html.j2': _TEMPLATE})],
                      exclude_input_prompt=True, exclude_output_prompt=True, embed_images=True)
    ex.template_file = 'site.html.j2'
    # code is pygments' own markup from our notebooks: skip nbconvert's (slow) bleach pass over it
    ex.filters = {**ex.filters, 'clean_html': lambda s: s.decode() if isinstance(s, bytes) else str(s)}
    return ex

def _rel(frm, to):
    "Relative URL from page `frm` to page `to` (both relative to the site root)."
    return Path(os.path.relpath(to, frm.parent)).as_posix()

def _rewrite_links(body, page, rel_nb, pages_by_nb, site_url):
    "Point `.ipynb` links and links to the published site at the local pages."
    def fix(m):
        attr, q, url = m.group(1), m.group(2), m.group(3)
        target = None
        if site_url and url.startswith(site_url):
            target = url[len(site_url):].lstrip('/') or 'index.html'
            base, _, frag = target.partition('#')
            target = (base or 'index.html', frag)
            return f'{attr}={q}{_rel(page, Path(target[0]))}{"#" + target[1] if target[1] else ""}{q}'
        if re.match(r'^[a-z][a-z0-9+.-]*:|^#|^/', url): return m.group(0)
        base, _, frag = url.partition('#')
        if base.endswith('.ipynb'):
            nbrel = Path(os.path.normpath(rel_nb.parent / base))
            if nbrel in pages_by_nb:
                return f'{attr}={q}{_rel(page, pages_by_nb[nbrel])}{"#" + frag if frag else ""}{q}'
        return m.group(0)
    return re.sub(r'(href)=(["\'])([^"\']*)\2', fix, body)

def _nav(page, entries, site_title):
    "Sidebar HTML for `page`."
    out, section = [f'<a class="brand" href="{_rel(page, Path("index.html"))}">{html.escape(site_title)}</a>', '<ul>'], None
    for e in entries:
        folder = e['page'].parent.as_posix()
        if folder != '.' and folder != section:
            section = folder
            out.append(f'<li class="section">{html.escape(section_name(folder))}</li>')
        cur = ' class="current"' if e['page'] == page else ''
        out.append(f'<li{cur}><a href="{_rel(page, e["page"])}">{html.escape(e["title"])}</a></li>')
    out.append('</ul>')
    return '\n'.join(out)

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} – {site}</title>
<meta name="description" content="{desc}">
<link rel="stylesheet" href="{css}">
</head>
<body>
<nav class="sidebar" aria-label="pages">
{nav}
</nav>
<main>
<header class="page-header">
<h1 class="title">{title}</h1>
{desc_p}
</header>
<article class="notebook">
{body}
</article>
<nav class="pager" aria-label="previous and next">{prev}{next}</nav>
<footer>{site}{src}</footer>
</main>
</body>
</html>
"""

_CSS = """
:root { --side: 250px; --fg: #1d2330; --muted: #5f6b7a; --accent: #2c6fbb; --code-bg: #f6f8fa; --border: #dde3ea; }
* { box-sizing: border-box; }
html { font-size: 15px; }
body { margin: 0; color: var(--fg); font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  line-height: 1.55; background: #fff; }
a { color: var(--accent); text-decoration: none; } a:hover { text-decoration: underline; }
.sidebar { position: fixed; top: 0; bottom: 0; left: 0; width: var(--side); overflow-y: auto; padding: 1.2rem 0.8rem;
  background: #f3f5f8; border-right: 1px solid var(--border); }
.sidebar .brand { display: block; font-weight: 700; font-size: 1.2rem; color: var(--fg); margin: 0 0.4rem 1rem; }
.sidebar ul { list-style: none; padding: 0; margin: 0; }
.sidebar li a { display: block; padding: 0.25rem 0.5rem; border-radius: 4px; color: #33404f; }
.sidebar li a:hover { background: #e4e9f0; text-decoration: none; }
.sidebar li.current a { background: var(--accent); color: #fff; }
.sidebar li.section { margin: 0.9rem 0.5rem 0.2rem; font-size: 0.78rem; font-weight: 700; text-transform: uppercase;
  letter-spacing: 0.05em; color: var(--muted); }
main { margin-left: var(--side); padding: 1.5rem 2.5rem 2rem; max-width: calc(var(--side) + 1000px); }
.page-header { border-bottom: 1px solid var(--border); margin-bottom: 1rem; }
.page-header h1 { margin: 0.2rem 0 0.3rem; font-size: 2rem; }
.page-header .description { color: var(--muted); font-size: 1.1rem; margin: 0 0 0.8rem; }
.notebook h1, .notebook h2, .notebook h3, .notebook h4 { line-height: 1.25; margin: 1.3rem 0 0.5rem; }
.notebook h2 { border-bottom: 1px solid var(--border); padding-bottom: 0.2rem; }
.anchor-link { visibility: hidden; margin-left: 0.3rem; color: var(--muted); }
h1:hover .anchor-link, h2:hover .anchor-link, h3:hover .anchor-link, h4:hover .anchor-link { visibility: visible; }
.cell { margin: 0.6rem 0; }
.input_area, .highlight { background: var(--code-bg); border-radius: 5px; }
.input_area { border: 1px solid var(--border); }
pre { margin: 0; padding: 0.6rem 0.8rem; overflow-x: auto; font-size: 0.85rem; line-height: 1.4;
  font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 0.88em;
  background: var(--code-bg); padding: 0.05em 0.3em; border-radius: 3px; }
pre code { background: none; padding: 0; }
.output_wrapper { margin-top: 0.25rem; }
.output_area { margin: 0.2rem 0; overflow-x: auto; }
.output_text pre, .output_stream pre { background: #fff; border-left: 3px solid #cfd8e3; white-space: pre-wrap; }
.output_stderr pre { background: #fff5f5; border-left-color: #e0a0a0; }
.output_error pre { background: #fff0f0; border-left: 3px solid #d66; }
.output_png img, .output_jpeg img, .output_subarea img, .w-output img { max-width: 100%; height: auto; display: block; margin: 0.3rem 0; }
.rendered_html table, .output_html table { border-collapse: collapse; margin: 0.5rem 0; font-size: 0.85rem; }
.rendered_html th, .rendered_html td, .output_html th, .output_html td { border: 1px solid var(--border); padding: 0.25rem 0.55rem; text-align: right; }
.rendered_html th, .output_html th { background: #f3f5f8; }
.rendered_html td:first-child { text-align: left; }
.text_cell_render img { max-width: 100%; }
blockquote { margin: 0.5rem 0; padding: 0.2rem 1rem; border-left: 4px solid var(--border); color: var(--muted); }
details.code-fold > summary { cursor: pointer; color: var(--muted); font-size: 0.85rem; margin: 0.2rem 0; }
.celltag_show-doc .output_markdown, .show-doc { border: 1px solid var(--border); border-radius: 6px; padding: 0.2rem 1rem 0.6rem;
  box-shadow: 0 1px 3px rgba(0,0,0,0.06); margin-top: 1rem; }
.output_markdown hr { display: none; }
.output_markdown h3 { margin-top: 0.6rem; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.source-link { float: right; font-size: smaller; margin: 0.6rem 0 0; }
.widget-snapshot { border: 1px dashed #b8c4d2; border-radius: 6px; padding: 0.6rem; margin: 0.4rem 0; }
.w-note { font-size: 0.75rem; color: var(--muted); text-transform: uppercase; letter-spacing: 0.04em; margin-bottom: 0.3rem; }
.w-vbox { display: flex; flex-direction: column; gap: 0.3rem; }
.w-hbox { display: flex; flex-direction: row; flex-wrap: wrap; gap: 0.3rem 1.2rem; }
.w-control { display: flex; align-items: center; gap: 0.5rem; font-size: 0.85rem; }
.w-label { min-width: 5.5rem; color: var(--muted); }
.w-value { font-family: ui-monospace, monospace; }
.w-control button { font-size: 0.8rem; padding: 0.15rem 0.6rem; border: 1px solid var(--border); background: #fff; border-radius: 3px; }
.w-control button.w-on { background: var(--accent); color: #fff; }
.w-control select { max-width: 16rem; }
.pager { display: flex; justify-content: space-between; gap: 1rem; margin-top: 2.5rem; padding-top: 1rem; border-top: 1px solid var(--border); }
.pager a { display: block; padding: 0.5rem 0.9rem; border: 1px solid var(--border); border-radius: 6px; }
.pager .next { margin-left: auto; text-align: right; }
footer { color: var(--muted); font-size: 0.8rem; margin-top: 1.5rem; }
@media (max-width: 800px) { .sidebar { position: static; width: auto; border-right: none; border-bottom: 1px solid var(--border); }
  main { margin-left: 0; padding: 1rem; } }
"""

def site_css():
    from pygments.formatters import HtmlFormatter
    return _CSS + '\n/* code highlighting (pygments) */\n' + HtmlFormatter(style='default').get_style_defs('.highlight')

def _settings(root):
    "A few keys of settings.ini (title, site url)."
    import configparser
    cp = configparser.ConfigParser()
    cp.read(root / 'settings.ini')
    d = cp['DEFAULT'] if cp.has_section('DEFAULT') or cp.defaults() else {}
    title = d.get('title', d.get('lib_name', 'docs'))
    url = (d.get('doc_host', '') + d.get('doc_baseurl', '')).rstrip('/')
    return title, url, d.get('description', '')

def build(out='_site', nbs='nbs', quiet=False):
    "Build the site into `out`; returns a list of page records (dicts)."
    t0 = time.time()
    nbs, out = Path(nbs).resolve(), Path(out).resolve()
    root = nbs.parent
    site_title, site_url, site_desc = _settings(root)
    os.chdir(root)  # nbdev finds settings.ini from the working directory
    warnings.filterwarnings('ignore')
    files = find_notebooks(nbs)
    if not files: raise SystemExit(f'no notebooks under {nbs}')
    entries, seen = [], {}
    for f in files:
        rel = f.relative_to(nbs)
        page = page_name(rel)
        if page in seen: page = rel.with_suffix('.html')  # two notebooks would share a name: keep the full stem
        seen[page] = rel
        entries.append(dict(nb=rel, page=page, path=f))
    pages_by_nb = {e['nb']: e['page'] for e in entries}
    ex, failed = _exporter(), []
    for e in entries:
        t = time.time()
        try: d, fm, widgets = process_notebook(e['path'], nbs)
        except Exception as exc:
            failed.append((e['nb'], exc))
            print(f'ERROR processing {e["nb"]}: {exc}', file=sys.stderr)
            continue
        e['title'] = str(fm.get('title') or e['nb'].stem)
        e['desc'] = str(fm.get('description') or '')
        e['problems'] = fm['problems']
        cells = []
        for c in d['cells']:
            if c['cell_type'] == 'code':
                code = [l for l in ''.join(c['source']).splitlines() if l.strip() and not l.lstrip().startswith('#|')]
                if len(code) == 1 and code[0].startswith('show_doc('): c['metadata'].setdefault('tags', []).append('show-doc')
                if not _apply_quarto(c): continue
                for o in c.get('outputs', []):
                    data = o.get('data', {})
                    if 'application/vnd.jupyter.widget-view+json' in data: _snapshot(data, widgets)
                    if 'text/markdown' in data:
                        data['text/markdown'] = _fix_pandoc_links(''.join(data['text/markdown']))
                if 'show-doc' in c['metadata'].get('tags', []): c['source'] = ''
                if not c['source'].strip() and not c.get('outputs'): continue
            elif c['cell_type'] == 'markdown' and not ''.join(c['source']).strip(): continue
            cells.append(c)
        d['cells'] = cells
        e['nb_dict'], e['secs'] = d, time.time() - t
    entries = [e for e in entries if 'nb_dict' in e]
    if not any(e['page'] == Path('index.html') for e in entries):  # no index.ipynb (yet): a contents page
        items = ''.join(f'<li><a href="{e["page"].as_posix()}">{html.escape(e["title"])}</a>'
                        f'{" — " + html.escape(e["desc"]) if e["desc"] else ""}</li>' for e in entries)
        entries.insert(0, dict(nb=None, page=Path('index.html'), path=None, title=site_title, desc=site_desc,
                               problems=[], secs=0., body=f'<ul class="contents">{items}</ul>'))
    import nbformat
    if out.exists(): shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / 'site.css').write_text(site_css())
    for i, e in enumerate(entries):
        t = time.time()
        if e['nb'] is None: body = e['body']
        else:
            nbnode = nbformat.reads(json.dumps(e.pop('nb_dict')), as_version=4)  # joins line lists
            res = {'metadata': {'path': str(e['path'].parent), 'name': e['path'].stem}}
            body = _rewrite_links(ex.from_notebook_node(nbnode, resources=res)[0], e['page'], e['nb'], pages_by_nb, site_url)
        body = re.sub(r'<p><a href="([^"]*/blob/[^"]*)">source</a></p>', r'<p class="source-link"><a href="\1">source</a></p>', body)
        page = e['page']
        prev = entries[i - 1] if i else None
        nxt = entries[i + 1] if i + 1 < len(entries) else None
        html_ = _PAGE.format(
            title=html.escape(e['title']), site=html.escape(site_title), desc=html.escape(e['desc'], quote=True),
            desc_p=f'<p class="description">{html.escape(e["desc"])}</p>' if e['desc'] else '',
            css=_rel(page, Path('site.css')), nav=_nav(page, entries, site_title), body=body, src=f' · generated from <code>nbs/{e["nb"].as_posix()}</code>' if e['nb'] else '',
            prev=f'<a class="prev" href="{_rel(page, prev["page"])}">← {html.escape(prev["title"])}</a>' if prev else '',
            next=f'<a class="next" href="{_rel(page, nxt["page"])}">{html.escape(nxt["title"])} →</a>' if nxt else '')
        dst = out / page
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_text(html_, encoding='utf-8')
        e['bytes'], e['images'] = dst.stat().st_size, len(re.findall(r'<img\s[^>]*src="data:image/', html_))
        e['secs'] += time.time() - t
    if not quiet:
        w = max(len(str(e['page'])) for e in entries)
        print(f'{"page":<{w}}  {"KiB":>7}  {"images":>6}  {"s":>5}  title')
        for e in entries:
            print(f'{str(e["page"]):<{w}}  {e["bytes"] / 1024:7.1f}  {e["images"]:6d}  {e["secs"]:5.1f}  {e["title"]}')
        tot = sum(e['bytes'] for e in entries)
        for e in entries:
            for p in e['problems']:
                print(f'warning: {e["nb"]}: nbdev_docs executes this cell for show_doc and it fails '
                      f'(the Quarto build would stop here): {p}')
        print(f'{len(entries)} pages, {tot / 2**20:.2f} MiB, {sum(e["images"] for e in entries)} images -> {out} '
              f'({time.time() - t0:.1f} s); open {out / "index.html"}')
    if failed:
        raise SystemExit(f'{len(failed)} notebook(s) failed: ' + ', '.join(str(n) for n, _ in failed))
    return entries

# ---------------------------------------------------------------------------------------------------------
# Checking the site in headless Chromium (DevTools protocol over a pipe; standard library only)

def find_chromium():
    for n in ('chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'chrome'):
        if p := shutil.which(n): return p
    return None

class Chromium:
    "Minimal DevTools-protocol client for a headless Chromium talking over `--remote-debugging-pipe`."
    def __init__(self, exe=None, width=1280, height=900, timeout=30):
        self.exe, self.timeout = exe or find_chromium(), timeout
        if not self.exe: raise FileNotFoundError('no chromium executable on PATH')
        self.tmp = tempfile.mkdtemp(prefix='docs-chromium-')
        to_chrome_r, self._w = os.pipe()
        self._r, from_chrome_w = os.pipe()
        def child():  # Chromium reads commands on fd 3 and writes replies on fd 4
            # (copies above 10 first so that dup2 never clobbers the other pipe; Python's own fds are close-on-exec)
            a, b = (fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_chrome_r, from_chrome_w))
            os.dup2(a, 3); os.dup2(b, 4)
        args = [self.exe, '--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
                '--no-default-browser-check', '--disable-extensions', '--disable-background-networking',
                '--disable-sync', '--mute-audio', '--hide-scrollbars', f'--window-size={width},{height}',
                f'--user-data-dir={self.tmp}', '--remote-debugging-pipe', 'about:blank']
        self.proc = subprocess.Popen(args, preexec_fn=child, close_fds=False,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_chrome_r); os.close(from_chrome_w)
        self._buf, self._id, self.events = b'', 0, []
        tid = self.call('Target.createTarget', url='about:blank')['targetId']
        self.session = self.call('Target.attachToTarget', targetId=tid, flatten=True)['sessionId']
        for m in ('Page.enable', 'Runtime.enable', 'Network.enable'): self.call(m, session=True)

    def _read_msg(self, deadline):
        while b'\0' not in self._buf:
            left = deadline - time.time()
            if left <= 0 or not select.select([self._r], [], [], left)[0]: raise TimeoutError('chromium did not answer')
            chunk = os.read(self._r, 1 << 20)
            if not chunk: raise RuntimeError('chromium closed the pipe')
            self._buf += chunk
        msg, _, self._buf = self._buf.partition(b'\0')
        return json.loads(msg)

    def call(self, method, session=False, **params):
        self._id += 1
        msg = {'id': self._id, 'method': method, 'params': params}
        if session: msg['sessionId'] = self.session
        os.write(self._w, json.dumps(msg).encode() + b'\0')
        deadline = time.time() + self.timeout
        while True:
            r = self._read_msg(deadline)
            if r.get('id') == self._id:
                if 'error' in r: raise RuntimeError(f'{method}: {r["error"]}')
                return r.get('result', {})
            self.events.append(r)

    def wait_event(self, name, timeout=None):
        deadline = time.time() + (timeout or self.timeout)
        for i, e in enumerate(self.events):
            if e.get('method') == name: return self.events.pop(i)
        while True:
            e = self._read_msg(deadline)
            if e.get('method') == name: return e
            self.events.append(e)

    def close(self):
        try: self.call('Browser.close')
        except Exception: pass
        try: self.proc.wait(10)
        except Exception: self.proc.kill()
        for fd in (self._r, self._w):
            try: os.close(fd)
            except OSError: pass
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self): return self
    def __exit__(self, *a): self.close()

_PROBE = r"""(async () => {
  await Promise.all([...document.images].map(i => i.decode().catch(() => null)));
  const imgs = [...document.images];
  return JSON.stringify({
    title: document.title, h1: (document.querySelector('h1.title') || {}).textContent || '',
    images: imgs.length, broken: imgs.filter(i => !(i.complete && i.naturalWidth > 0 && i.naturalHeight > 0)).map(i => i.src.slice(0, 60)),
    sizes: imgs.map(i => [i.naturalWidth, i.naturalHeight]),
    nav: document.querySelectorAll('nav.sidebar a').length, cells: document.querySelectorAll('.cell').length,
    css: getComputedStyle(document.querySelector('nav.sidebar')).position,
    text: document.body.innerText.length});
})()"""

def check_pages(site, pages, screenshots=None, chromium=None):
    "Open each page (paths relative to `site`) in headless Chromium; returns {page: probe dict + requests/errors}."
    site, res = Path(site).resolve(), {}
    with Chromium(chromium) as br:
        for p in pages:
            br.events.clear()
            url = (site / p).as_uri()
            br.call('Page.navigate', session=True, url=url)
            br.wait_event('Page.loadEventFired')
            r = br.call('Runtime.evaluate', session=True, expression=_PROBE, awaitPromise=True, returnByValue=True)
            if 'exceptionDetails' in r: raise RuntimeError(f'{p}: probe failed: {r["exceptionDetails"]}')
            info = json.loads(r['result']['value'])
            info['requests'] = [e['params']['request']['url'] for e in br.events
                                if e.get('method') == 'Network.requestWillBeSent'
                                and not e['params']['request']['url'].startswith(('file:', 'data:', 'about:'))]
            info['errors'] = [e['params']['exceptionDetails'].get('text', '') for e in br.events
                              if e.get('method') == 'Runtime.exceptionThrown']
            if screenshots:
                shot = br.call('Page.captureScreenshot', session=True, format='png')
                dst = Path(screenshots) / (str(p).replace('/', '__').replace('.html', '.png'))
                dst.parent.mkdir(parents=True, exist_ok=True)
                dst.write_bytes(base64.b64decode(shot['data']))
            res[str(p)] = info
    return res

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--out', default='_site', help='output folder (default _site)')
    ap.add_argument('--nbs', default=str(ROOT / 'nbs'), help='notebook folder (default nbs)')
    ap.add_argument('--check', action='store_true', help='open every page in headless Chromium and check it')
    ap.add_argument('--screenshots', default=None, help='with --check: save a PNG of each page here')
    ap.add_argument('--strict', action='store_true', help='fail where nbdev_docs would fail (a cell run for show_doc errors)')
    a = ap.parse_args()
    out = Path(a.out).resolve()
    entries = build(out, a.nbs)
    if a.strict and any(e['problems'] for e in entries):
        raise SystemExit('nbdev_docs would fail on: ' + ', '.join(str(e['nb']) for e in entries if e['problems']))
    if not a.check: return
    if not find_chromium(): raise SystemExit('--check needs chromium (Debian: apt-get install chromium)')
    t = time.time()
    res = check_pages(out, [e['page'] for e in entries], a.screenshots)
    bad = []
    for e in entries:
        r = res[str(e['page'])]
        ok = (r['h1'].strip() == e['title'] and r['images'] == e['images'] and not r['broken']
              and not r['requests'] and not r['errors'] and r['nav'] >= len(entries))
        if not ok: bad.append(str(e['page']))
        print(f'{"ok " if ok else "BAD"} {e["page"]}: {r["images"]} images rendered, {len(r["broken"])} broken, '
              f'{len(r["requests"])} network requests, {len(r["errors"])} JS errors')
    print(f'chromium check of {len(entries)} pages in {time.time() - t:.1f} s')
    if bad: raise SystemExit(f'pages that did not render properly: {", ".join(bad)}')

if __name__ == '__main__': main()
