#!/usr/bin/env python
"""Build the documentation site from `nbs/` without Quarto.

Every notebook goes through the processing `nbdev_docs` gives it before Quarto (nbdev's own processors:
frontmatter from the `# Title` / `> description` cell, `show_doc` cards for exported names, hidden cells
removed, directives dropped, links to the API), then nbconvert's `basic` template renders it as one
self-contained page (images as data URIs, nothing fetched) in a layout with a sidebar and previous/next
links. The layout, the cell and widget templates and the stylesheet are the files in `scripts/docs/`.

    python scripts/build_docs.py [--out _site] [--nbs nbs] [--check] [--screenshots DIR] [--strict]

`--check` then opens every page in headless Chromium (`chromium --headless --dump-dom`) and checks that it
renders with its images, fetches nothing and logs nothing to the console. The GitHub Pages site is built by
Quarto (`nbdev_docs`); this one needs nothing beyond the dev requirements.
"""
import argparse, html, json, os, re, shutil, subprocess, sys, tempfile, time, warnings
from pathlib import Path
from markupsafe import Markup, escape

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent / 'docs'  # page layout, cell and widget templates, stylesheet, probe
WIDGET = 'application/vnd.jupyter.widget-view+json'

# ---------------------------------------------------------------------------------------------------------
# Finding notebooks and naming pages (as nbdev_sidebar and Quarto do)

def find_notebooks(nbs):
    "Notebooks under `nbs` (none in `_*` or `.*` folders) in sidebar order: top level first, index first, then each sub-folder."
    rels = [p.relative_to(nbs) for p in Path(nbs).rglob('*.ipynb')]
    rels = [r for r in rels if not any(p.startswith(('_', '.')) for p in r.parts)]
    return [Path(nbs) / r for r in sorted(rels, key=lambda r: (len(r.parts) > 1, r.parent.as_posix(), '' if r.stem == 'index' else r.name))]

def page_name(rel):
    "Output page of notebook `rel` (relative to nbs): nbdev drops the number prefix, `00_core.ipynb` -> `core.html`."
    return rel.with_name(re.sub(r'^\d+[a-zA-Z0-9]*_', '', rel.name.lower())).with_suffix('.html')

# ---------------------------------------------------------------------------------------------------------
# nbdev processing

def _only_imports(src):
    return all(re.match(r'\s*(import|from)\s|\s*#|\s*$', l) for l in src.splitlines())

def _procs():
    "nbdev's docs processors, except that exported cells keep their source (folded under the API card)."
    from nbdev.processors import FilterDefaults, insert_warning, rm_export, add_fold, mv_exports, exec_show_docs
    def rm_hidden(cell):
        "Remove `hide`/`default_exp` cells (nbdev's `rm_export`, keeping exported cells)"
        if cell.directives_ and cell.directives_.keys() & {'hide', 'default_exp'}: del cell['source']
    class fold_exports:
        "Exported source folded under its API card: open for `export(s)`; closed for `exporti` and a module's imports"
        def __init__(self, nb): self.module = any('default_exp' in c.directives_ for c in nb.cells)
        def __call__(self, cell):
            d = cell.directives_.keys() if cell.cell_type == 'code' and cell.directives_ else set()
            if not d & {'export', 'exports', 'exporti'}: return
            imports = self.module and _only_imports(cell.source)  # a module's import cell: no card, and long
            self.module = False  # only the first exported cell is the import cell
            fold = 'true' if imports or 'exporti' in d else 'show'
            cell.source = f'#| code-fold: {fold}\n#| code-summary: "{"Imports" if imports else "Exported source"}"\n{cell.source}'
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
                err, self.k.exc = self.k.exc, None
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
    "Run nbdev's docs processors on `path`; returns (plain notebook dict, frontmatter dict, saved widget state)."
    from execnb.nbio import read_nb, nb2dict
    from nbdev.config import get_config
    from nbdev.process import NBProcessor
    nb = read_nb(path)
    widgets = json.loads(json.dumps(nb.get('metadata', {}).get('widgets', {})))
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
    d['metadata'].pop('widgets', None)  # the live widget manager state is replaced by static snapshots
    return d, fm, widgets

_quarto_dir = re.compile(r'^\s*#\|\s*([\w-]+)\s*:\s*(.*?)\s*$')

def _apply_quarto(cell):
    "Apply (and remove) the Quarto cell options nbdev leaves in a cell's source; False if the cell is dropped."
    lines, opts = ''.join(cell['source']).splitlines(), {}
    while lines and (m := _quarto_dir.match(lines[0])):
        opts[m.group(1).lower()] = m.group(2).strip('"\'')
        lines.pop(0)
    if opts.get('include', '').lower() == 'false': return False
    meta = cell.setdefault('metadata', {})
    cell['source'] = '' if opts.get('echo', '').lower() == 'false' else '\n'.join(lines).strip('\n')
    if opts.get('output', '').lower() == 'false': cell['outputs'] = []
    if 'code-fold' in opts:
        meta.setdefault('tags', []).append('fold-open' if opts['code-fold'].lower() == 'show' else 'fold')
        meta['fold_summary'] = opts.get('code-summary', 'Code')
    return True

def _snapshot(data, widgets):
    "Replace a widget view in an output's `data` by a static snapshot of its saved state (`docs/widget.html`)."
    state = widgets.get('application/vnd.jupyter.widget-state+json', {}).get('state', {})
    mid = data.pop(WIDGET, {}).get('model_id')
    if mid not in state: return  # no saved state: keep the text/plain fallback
    data.pop('text/plain', None)
    data['text/html'] = str(_templates().get_template('widget.html').module.snapshot(mid, state))

def prepare_cells(d, widgets):
    "The cells a page shows: Quarto options applied, `show_doc` cells as their card alone, widgets as snapshots, no empty cells."
    cells = []
    for c in d['cells']:
        src = ''.join(c['source'])
        if c['cell_type'] == 'markdown' and not src.strip(): continue
        if c['cell_type'] == 'code':
            code = [l for l in src.splitlines() if l.strip() and not l.lstrip().startswith('#|')]
            if not _apply_quarto(c): continue
            if len(code) == 1 and code[0].startswith('show_doc('):  # the card alone, styled by its tag
                c['source'] = ''
                c['metadata'].setdefault('tags', []).append('show-doc')
            for o in c.get('outputs', []):
                data = o.get('data', {})
                if WIDGET in data: _snapshot(data, widgets)
                if 'text/markdown' in data:  # `[source](url){target=...}`: drop the Pandoc attributes
                    data['text/markdown'] = re.sub(r'(\[[^\]]*\]\([^)\s]+\))\{[^}]*\}', r'\1', ''.join(data['text/markdown']))
            if not c['source'].strip() and not c.get('outputs'): continue
        cells.append(c)
    d['cells'] = cells
    return d

# ---------------------------------------------------------------------------------------------------------
# Rendering

def _templates():
    from jinja2 import Environment, FileSystemLoader
    return Environment(loader=FileSystemLoader(HERE), autoescape=True)

def _exporter():
    from jinja2 import FileSystemLoader
    from nbconvert import HTMLExporter
    ex = HTMLExporter(template_name='basic', extra_loaders=[FileSystemLoader(HERE)],
                      exclude_input_prompt=True, exclude_output_prompt=True, embed_images=True)
    ex.template_file = 'cells.html.j2'
    # code is pygments' own markup from our notebooks: skip nbconvert's (slow) bleach pass over it
    ex.filters = {**ex.filters, 'clean_html': lambda s: s.decode() if isinstance(s, bytes) else str(s)}
    return ex

def _rel(frm, to):
    "Relative URL from page `frm` to page `to` (both relative to the site root)."
    return Path(os.path.relpath(to, frm.parent)).as_posix()

def _rewrite_links(body, page, rel_nb, pages_by_nb, site_url):
    "Point `.ipynb` links and links to the published site at the local pages."
    def fix(m):
        attr, q, url = m.groups()
        if site_url and url.startswith(site_url):
            base, _, frag = url[len(site_url):].lstrip('/').partition('#')
            return f'{attr}={q}{_rel(page, Path(base or "index.html"))}{"#" + frag if frag else ""}{q}'
        base, _, frag = url.partition('#')
        nbrel = Path(os.path.normpath(rel_nb.parent / base)) if base.endswith('.ipynb') and '://' not in base else None
        if nbrel in pages_by_nb: return f'{attr}={q}{_rel(page, pages_by_nb[nbrel])}{"#" + frag if frag else ""}{q}'
        return m.group(0)
    return re.sub(r'(href)=(["\'])([^"\']*)\2', fix, body)

# ---------------------------------------------------------------------------------------------------------
# Building: the steps

def plan_pages(nbs):
    "One entry per notebook (sidebar order): its path, its path relative to `nbs`, its page and sidebar section."
    entries, seen = [], set()
    for f in find_notebooks(nbs):
        rel = f.relative_to(nbs)
        page = page_name(rel)
        if page in seen: page = rel.with_suffix('.html')  # two notebooks would share a name: keep the full stem
        seen.add(page)
        section = '' if rel.parent == Path('.') else re.sub(r'^\d+_', '', rel.parent.as_posix()).replace('_', ' ')
        entries.append(dict(nb=rel, page=page, path=f, section=section))
    if not entries: raise SystemExit(f'no notebooks under {nbs}')
    return entries

def render_notebook(e, ex, pages_by_nb, site):
    "Process `e`'s notebook and render its cells: fills in its title, description (HTML), body and problems."
    from nbconvert.filters import markdown2html_mistune
    import nbformat
    t = time.time()
    d, fm, widgets = process_notebook(e['path'], e['path'].parent)
    e['title'], e['problems'] = str(fm.get('title') or e['nb'].stem), fm['problems']
    e['desc'] = Markup(markdown2html_mistune(str(fm['description']))) if fm.get('description') else ''
    nb = nbformat.reads(json.dumps(prepare_cells(d, widgets)), as_version=4)  # (joins line lists)
    res = {'metadata': {'path': str(e['path'].parent), 'name': e['path'].stem}}
    body = _rewrite_links(ex.from_notebook_node(nb, resources=res)[0], e['page'], e['nb'], pages_by_nb, site['url'])
    e['body'] = Markup(re.sub(r'<p><a href="([^"]*/blob/[^"]*)">source</a></p>', r'<p class="source-link"><a href="\1">source</a></p>', body))
    e['secs'] = time.time() - t

def contents_page(entries, site):
    "An index page listing the others, for a folder without `index.ipynb`."
    items = ''.join(f'<li><a href="{e["page"].as_posix()}">{escape(e["title"])}</a>' + (f' — {escape(Markup(e["desc"]).striptags())}' if e['desc'] else '') + '</li>' for e in entries)
    return dict(nb=None, page=Path('index.html'), path=None, section='', title=site['title'], desc=escape(site['desc']),
                problems=[], secs=0., body=Markup(f'<ul class="contents">{items}</ul>'))

def write_site(out, entries, site):
    "Write every page (`docs/page.html`) and the stylesheet into a fresh `out`."
    from pygments.formatters import HtmlFormatter
    if out.exists(): shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / 'site.css').write_text((HERE / 'site.css').read_text() + '\n/* code highlighting (pygments) */\n'
                                  + HtmlFormatter(style='default').get_style_defs('.highlight'))
    layout = _templates().get_template('page.html')
    for i, e in enumerate(entries):
        text = layout.render(e=e, entries=entries, site=site, prev=entries[i - 1] if i else None,
                             next=entries[i + 1] if i + 1 < len(entries) else None, rel=lambda to: _rel(e['page'], Path(to)))
        dst = out / e['page']
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_text(text, encoding='utf-8')
        e['bytes'], e['images'] = len(text.encode()), len(re.findall(r'<img\s[^>]*src="data:image/', text))

def report(entries, out, secs):
    w = max(len(str(e['page'])) for e in entries)
    print(f'{"page":<{w}}  {"KiB":>7}  {"images":>6}  {"s":>5}  title')
    for e in entries: print(f'{str(e["page"]):<{w}}  {e["bytes"] / 1024:7.1f}  {e["images"]:6d}  {e["secs"]:5.1f}  {e["title"]}')
    for e in entries:
        for p in e['problems']:
            print(f'warning: {e["nb"]}: nbdev_docs executes this cell for show_doc and it fails (the Quarto build would stop here): {p}')
    print(f'{len(entries)} pages, {sum(e["bytes"] for e in entries) / 2**20:.2f} MiB, {sum(e["images"] for e in entries)} images '
          f'-> {out} ({secs:.1f} s); open {out / "index.html"}')

def build(out='_site', nbs='nbs', quiet=False):
    "Build the site into `out`; returns the page records (dicts)."
    from nbdev.config import get_config
    t0, nbs, out = time.time(), Path(nbs).resolve(), Path(out).resolve()
    os.chdir(nbs.parent)  # nbdev finds settings.ini from the working directory
    warnings.filterwarnings('ignore')
    cfg = get_config()
    site = dict(title=cfg.get('title', cfg.lib_name), url=(cfg.get('doc_host', '') + cfg.get('doc_baseurl', '')).rstrip('/'),
                desc=cfg.get('description', ''))
    entries, ex, failed = plan_pages(nbs), _exporter(), []
    pages_by_nb = {e['nb']: e['page'] for e in entries}
    for e in entries:
        try: render_notebook(e, ex, pages_by_nb, site)
        except Exception as exc:
            failed.append(e['nb'])
            print(f'ERROR processing {e["nb"]}: {type(exc).__name__}: {exc}', file=sys.stderr)
    entries = [e for e in entries if 'body' in e]
    if not any(e['page'] == Path('index.html') for e in entries): entries.insert(0, contents_page(entries, site))
    write_site(out, entries, site)
    if not quiet: report(entries, out, time.time() - t0)
    if failed: raise SystemExit(f'{len(failed)} notebook(s) failed: ' + ', '.join(map(str, failed)))
    return entries

# ---------------------------------------------------------------------------------------------------------
# Checking the site in headless Chromium, from its command line

def find_chromium():
    for n in ('chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'chrome'):
        if p := shutil.which(n): return p
    return None

def open_page(exe, path, profile, screenshot=None, timeout=60):
    "Load `path` (a page with `docs/probe.js` appended) in headless Chromium; the probe's findings + console messages."
    args = [exe, '--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
            '--disable-extensions', '--mute-audio', '--hide-scrollbars', '--window-size=1280,900', f'--user-data-dir={profile}',
            '--host-resolver-rules=MAP * ~NOTFOUND',  # nothing may come from the network: every host fails to resolve
            '--enable-logging=stderr', '--v=0',  # console messages and uncaught errors go to stderr as `:CONSOLE...] "..."`
            '--virtual-time-budget=10000',  # run the page's tasks (the probe's image decoding) before the DOM is printed
            '--dump-dom', *([f'--screenshot={screenshot}'] if screenshot else []), path.as_uri()]
    r = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    m = re.search(r'<pre id="docs-probe">(.*?)</pre>', r.stdout, flags=re.S)
    if not m: raise RuntimeError(f'{path.name}: no probe report from chromium (exit {r.returncode}):\n{r.stderr[-3000:]}')
    return {**json.loads(html.unescape(m.group(1))), 'errors': re.findall(r':CONSOLE[^\]]*\] (.*)', r.stderr)}

def check_pages(site, pages, screenshots=None, chromium=None):
    "Open each page (paths relative to `site`) in headless Chromium; returns {page: what `docs/probe.js` saw + `errors`}."
    exe = chromium or find_chromium()
    if not exe: raise FileNotFoundError('no chromium executable on PATH')
    probe = f'<script>\n{(HERE / "probe.js").read_text()}</script>\n</body>'
    res = {}
    with tempfile.TemporaryDirectory(prefix='docs-check-') as tmp:
        copy, profile = Path(tmp) / 'site', Path(tmp) / 'profile'
        shutil.copytree(site, copy)  # the probe goes into a copy: the site itself stays free of scripts
        for p in pages:
            f = copy / p
            f.write_text(f.read_text(encoding='utf-8').replace('</body>', probe), encoding='utf-8')
            shot = Path(screenshots).resolve() / str(p).replace('/', '__').replace('.html', '.png') if screenshots else None
            if shot: shot.parent.mkdir(parents=True, exist_ok=True)
            res[str(p)] = open_page(exe, f, profile, shot)
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
    t, res = time.time(), check_pages(out, [e['page'] for e in entries], a.screenshots)
    bad = [e for e in entries if (r := res[str(e['page'])])['h1'].strip() != e['title'] or r['images'] != e['images']
           or r['broken'] or r['requests'] or r['errors'] or r['nav'] < len(entries)]
    for e in entries:
        r = res[str(e['page'])]
        print(f'{"BAD" if e in bad else "ok "} {e["page"]}: {r["images"]} images rendered, {len(r["broken"])} broken, '
              f'{len(r["requests"])} network requests, {len(r["errors"])} console messages')
    print(f'chromium check of {len(entries)} pages in {time.time() - t:.1f} s')
    if bad: raise SystemExit(f'pages that did not render properly: {", ".join(str(e["page"]) for e in bad)}')

if __name__ == '__main__': main()
