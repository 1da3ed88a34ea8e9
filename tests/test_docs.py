"""The offline docs site (`scripts/build_docs.py`): built into a temporary folder, then checked as files
(every notebook has a page, every link resolves, nothing is fetched from the network, every image is a real
PNG/JPEG, descriptions rendered, module imports folded) and rendered in headless Chromium from its command line
(titles, images decoded with a nonzero size, no requests, nothing on the console) — a check itself shown to catch
a broken image, a remote stylesheet and a script error."""
import base64, fcntl, importlib.util, json, os, re, struct, subprocess, sys, zlib
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT / 'nbs'
SCRIPT = ROOT / 'scripts' / 'build_docs.py'

def _load_builder():
    spec = importlib.util.spec_from_file_location('build_docs', SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    dont, sys.dont_write_bytecode = sys.dont_write_bytecode, True  # no __pycache__ in the repository
    try: spec.loader.exec_module(mod)
    finally: sys.dont_write_bytecode = dont
    return mod

bd = _load_builder()

def _notebooks():
    return [p for p in NBS.rglob('*.ipynb')
            if not any(part.startswith(('_', '.')) for part in p.relative_to(NBS).parts)]

def _page(nb):
    "The page nbdev names for `nb` (its own rule: `00_core.ipynb` -> `core.html`)."
    from nbdev.doclinks import _nbpath2html
    return _nbpath2html(nb.relative_to(NBS))

# ---------------------------------------------------------------------------------------------------------
# What a notebook should show: its title and how many images

_dir = re.compile(r'^\s*#\|\s*([\w-]+):?\s*(.*?)\s*$')

def _directives(src):
    d = {}
    for line in src.splitlines():
        if not line.strip(): continue
        m = _dir.match(line)
        if not m: break
        d[m.group(1).lower()] = m.group(2).lower()
    return d

def _title(nb):
    for c in nb['cells']:
        if c['cell_type'] == 'markdown':
            m = re.search(r'^#\s+(\S.*?)\s*$', ''.join(c['source']), flags=re.M)
            if m: return m.group(1)
    return None

def _expected_images(nb):
    "Images the page must show: outputs of shown cells (widget snapshots included) and markdown images."
    state = nb.get('metadata', {}).get('widgets', {}).get('application/vnd.jupyter.widget-state+json', {}).get('state', {})
    def widget_imgs(mid, depth=0):
        m = state.get(mid)
        if not m or depth > 20: return 0
        s = m.get('state', {})
        n = sum(any(k in o.get('data', {}) for k in ('image/png', 'image/jpeg')) for o in s.get('outputs', []))
        return n + sum(widget_imgs(c.replace('IPY_MODEL_', ''), depth + 1) for c in s.get('children', []))
    n, title_seen = 0, False
    for c in nb['cells']:
        src = ''.join(c['source'])
        if c['cell_type'] == 'markdown':
            if not title_seen and re.search(r'^#\s+\S', src, flags=re.M):  # the title cell becomes the page header
                title_seen = True
                continue
            n += len(re.findall(r'!\[[^\]]*\]\(|<img\s', src))
            continue
        if c['cell_type'] != 'code': continue
        d = _directives(src)
        if d.keys() & {'hide', 'default_exp'} or d.get('include') == 'false' or d.get('output') == 'false': continue
        for o in c.get('outputs', []):
            data = o.get('data', {})
            if 'image/png' in data or 'image/jpeg' in data: n += 1
            elif 'application/vnd.jupyter.widget-view+json' in data:
                n += widget_imgs(data['application/vnd.jupyter.widget-view+json'].get('model_id'))
    return n

# ---------------------------------------------------------------------------------------------------------
# Reading a page

class Page(HTMLParser):
    "Links, resources and the title of one HTML page."
    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.links, self.nav_links, self.resources, self.imgs, self.h1, self._nav, self._h1 = [], [], [], [], '', 0, False
        self.feed(text)
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == 'nav': self._nav += 1
        if tag == 'h1' and 'title' in (a.get('class') or '').split(): self._h1 = True
        if tag == 'a' and a.get('href'):
            self.links.append(a['href'])
            if self._nav: self.nav_links.append(a['href'])
        if tag == 'link' and a.get('href'): self.resources.append(('link', a['href']))
        if tag in ('script', 'img', 'audio', 'video', 'source', 'iframe', 'embed', 'track', 'input') and a.get('src'):
            self.resources.append((tag, a['src']))
        if tag == 'img': self.imgs.append(a.get('src', ''))
        if tag == 'object' and a.get('data'): self.resources.append((tag, a['data']))
    def handle_endtag(self, tag):
        if tag == 'nav': self._nav -= 1
        if tag == 'h1': self._h1 = False
    def handle_data(self, data):
        if self._h1: self.h1 += data

def _is_remote(url): return bool(re.match(r'^(https?:)?//', url.strip(), flags=re.I))

def _local_target(page, href):
    "The file a relative link of `page` points to, or None for anchors, data: and remote links."
    if re.match(r'^[a-z][a-z0-9+.-]*:', href, flags=re.I) or href.startswith(('#', '//')): return None
    path = unquote(href.split('#')[0].split('?')[0])
    return (page.parent / path) if path else None

_MAGIC = {'image/png': b'\x89PNG\r\n\x1a\n', 'image/jpeg': b'\xff\xd8\xff'}

# ---------------------------------------------------------------------------------------------------------

@pytest.fixture(scope='session')
def site(tmp_path_factory):
    "Build the site once per session (shared by pytest-xdist workers, under a lock)."
    base = tmp_path_factory.getbasetemp()
    if os.environ.get('PYTEST_XDIST_WORKER'): base = base.parent
    out, done = base / 'docs_site', base / 'docs_site.log'
    with open(base / 'docs_site.lock', 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            r = subprocess.run([sys.executable, str(SCRIPT), '--out', str(out), '--nbs', str(NBS)], cwd=ROOT,
                               capture_output=True, text=True, timeout=900,
                               env={**os.environ, 'PYTHONDONTWRITEBYTECODE': '1'})
            print(r.stdout)
            assert r.returncode == 0, f'docs build failed:\n{r.stdout[-4000:]}\n{r.stderr[-4000:]}'
            done.write_text(r.stdout)
    return out

def test_every_notebook_has_a_page(site):
    nbs = _notebooks()
    assert nbs, 'no notebooks found'
    missing = [str(nb.relative_to(NBS)) for nb in nbs if not (site / _page(nb)).is_file()]
    assert not missing, f'notebooks without a page: {missing}'
    assert (site / 'index.html').is_file()
    pages = sorted(p.relative_to(site) for p in site.rglob('*.html'))
    assert len(pages) == len(set(_page(nb) for nb in nbs) | {Path('index.html')})

def test_pages_links_resources_images(site):
    pages = sorted(site.rglob('*.html'))
    for f in pages:
        rel = f.relative_to(site)
        p = Page(f.read_text(encoding='utf-8'))
        # navigation: sidebar lists every page, and every link inside the site resolves
        assert len(p.nav_links) >= len(pages), f'{rel}: sidebar has {len(p.nav_links)} links for {len(pages)} pages'
        for href in p.links:
            t = _local_target(f, href)
            if t is not None: assert t.resolve().is_file(), f'{rel}: broken link {href}'
        for href in p.nav_links: assert _local_target(f, href) is not None, f'{rel}: nav link {href} leaves the site'
        # nothing needed to render comes from the network
        remote = [(tag, url[:80]) for tag, url in p.resources if _is_remote(url)]
        assert not remote, f'{rel} loads from the network: {remote}'
        css = [u for t, u in p.resources if t == 'link']
        assert css and all((f.parent / c).is_file() for c in css), f'{rel}: stylesheet missing'
        assert not re.search(r'url\(\s*["\']?(https?:)?//|@import\s+["\']?(https?:)?//', f.read_text(encoding='utf-8'))
        # images are embedded and decode to real PNG/JPEG
        for src in p.imgs:
            m = re.match(r'data:(image/[\w+.-]+);base64,(.*)$', src, flags=re.S)
            assert m, f'{rel}: image not embedded as a data URI: {src[:80]}'
            if m.group(1) in _MAGIC:
                raw = base64.b64decode(m.group(2), validate=True)
                assert raw.startswith(_MAGIC[m.group(1)]) and len(raw) > 100, f'{rel}: bad {m.group(1)} data'
    css_text = (site / 'site.css').read_text()
    assert not re.search(r'url\(\s*["\']?(https?:)?//|@import', css_text)

def test_nbdev_docs_would_process_every_notebook(site):
    "nbdev runs exported and import cells to render `show_doc`; a failure there stops the Quarto build (deploy workflow)."
    log = (site.parent / 'docs_site.log').read_text()
    bad = [l for l in log.splitlines() if l.startswith('warning:')]
    assert not bad, 'cells that fail when nbdev renders the docs (keep imports in their own cell):\n' + '\n'.join(bad)

def test_titles_and_images_match_notebooks(site):
    for nb_path in _notebooks():
        nb = json.loads(nb_path.read_text(encoding='utf-8'))
        page = site / _page(nb_path)
        p = Page(page.read_text(encoding='utf-8'))
        title = _title(nb)
        if title: assert p.h1.strip() == title, f'{page.name}: title {p.h1!r}, notebook says {title!r}'
        want = _expected_images(nb)
        got = sum(s.startswith('data:image/') for s in p.imgs)
        assert got == want, f'{page.name}: {got} embedded images, {nb_path.name} has {want}'

def _description(nb):
    "The `> description` line under a notebook's title, if any."
    for c in nb['cells']:
        if c['cell_type'] == 'markdown' and re.search(r'^#\s+\S', ''.join(c['source']), flags=re.M):
            m = re.search(r'^>\s*(\S.*?)\s*$', ''.join(c['source']), flags=re.M)
            return m.group(1) if m else None

def test_descriptions_are_rendered_markdown(site):
    "`*emphasis*` and `code` in a notebook's description are rendered, not shown as raw markdown."
    for nb_path in _notebooks():
        desc = _description(json.loads(nb_path.read_text(encoding='utf-8')))
        if not desc: continue
        text = (site / _page(nb_path)).read_text(encoding='utf-8')
        m = re.search(r'<div class="description">(.*?)</div>', text, flags=re.S)
        assert m, f'{_page(nb_path)}: no description'
        shown = m.group(1)
        assert not re.search(r'(?<!\w)\*\S[^*]*\*|`', shown), f'{_page(nb_path)}: raw markdown in {shown[:120]!r}'
        if re.search(r'(?<!\w)\*\S', desc): assert '<em>' in shown
        meta = re.search(r'<meta name="description" content="([^"]*)"', text).group(1)
        assert '<' not in meta and '*' not in meta, f'{_page(nb_path)}: markup in the meta description {meta[:80]!r}'

def test_module_imports_are_folded(site):
    "A module page does not open on its imports: its first exported cell, the import cell, is a closed fold."
    for nb_path in _notebooks():
        nb = json.loads(nb_path.read_text(encoding='utf-8'))
        codes = [''.join(c['source']) for c in nb['cells'] if c['cell_type'] == 'code']
        if not any('default_exp' in _directives(c) for c in codes): continue
        first = next((c for c in codes if _directives(c).keys() & {'export', 'exports'}), None)
        body = [l for l in (first or '').splitlines() if l.strip() and not l.lstrip().startswith('#')]
        if not body or not all(re.match(r'\s*(import|from)\s', l) for l in body): continue
        text = (site / _page(nb_path)).read_text(encoding='utf-8')
        art = text[text.index('<article'):]
        fold = re.search(r'<details class="code-fold"([^>]*)><summary>([^<]*)</summary>', art)  # the page's first fold
        assert fold and 'open' not in fold.group(1) and fold.group(2) == 'Imports', f'{_page(nb_path)}: imports not folded'

def _chromium():
    exe = bd.find_chromium()
    if not exe: pytest.skip('chromium is not installed (Debian: apt-get install chromium); browser rendering not checked')
    return exe

def _png(w, h):
    "A valid `w`x`h` grey PNG."
    chunk = lambda kind, data: struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))
    rows = b''.join(b'\0' + b'\x80' * w for _ in range(h))
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 0, 0, 0, 0))
            + chunk(b'IDAT', zlib.compress(rows)) + chunk(b'IEND', b''))

def test_chromium_check_catches_problems(tmp_path):
    "The browser check itself: a good image passes; a broken image, a remote stylesheet and a script error are reported."
    png = base64.b64encode(_png(2, 3)).decode()
    page = ('<!DOCTYPE html><html><head><title>t</title>{head}</head><body><nav class="sidebar"><a href="ok.html">ok</a></nav>'
            '<h1 class="title">t</h1><img src="data:image/png;base64,' + png + '">{body}</body></html>')
    (tmp_path / 'ok.html').write_text(page.format(head='', body=''))
    (tmp_path / 'bad.html').write_text(page.format(head='<link rel="stylesheet" href="https://example.com/x.css">',
        body='<img src="data:image/png;base64,AAAA"><script>not_defined_anywhere();</script>'))
    res = bd.check_pages(tmp_path, ['ok.html', 'bad.html'], chromium=_chromium())
    ok, bad = res['ok.html'], res['bad.html']
    assert ok['images'] == 1 and ok['sizes'] == [[2, 3]] and not ok['broken'] and not ok['requests'] and not ok['errors']
    assert ok['h1'] == 't' and ok['nav'] == 1
    assert bad['images'] == 2 and len(bad['broken']) == 1 and bad['broken'][0].startswith('data:image/png;base64,AAAA')
    assert any('example.com' in u for u in bad['requests']), bad['requests']
    assert any('not_defined_anywhere' in m for m in bad['errors']), bad['errors']
    assert (tmp_path / 'bad.html').read_text().count('<script') == 1, 'the probe was written into the site itself'

def test_pages_render_in_chromium(site):
    exe = _chromium()
    pages = sorted(p.relative_to(site) for p in site.rglob('*.html'))
    res = bd.check_pages(site, pages, chromium=exe)
    titles = {_page(nb): (_title(json.loads(nb.read_text(encoding='utf-8'))), nb) for nb in _notebooks()}
    for rel in pages:
        r = res[str(rel)]
        n_img = sum(s.startswith('data:image/') for s in Page((site / rel).read_text(encoding='utf-8')).imgs)
        assert r['h1'].strip(), f'{rel}: no title rendered'
        title = titles.get(rel, (None,))[0]
        if title: assert r['h1'].strip() == title and title in r['title'], f'{rel}: rendered title {r["h1"]!r}'
        assert r['css'] == 'fixed', f'{rel}: the stylesheet was not applied'
        assert r['nav'] >= len(pages), f'{rel}: sidebar not rendered'
        assert r['images'] == n_img, f'{rel}: {r["images"]} images in the DOM, {n_img} in the file'
        assert not r['broken'], f'{rel}: images that did not decode: {r["broken"]}'
        assert all(w > 0 and h > 0 for w, h in r['sizes']), f'{rel}: an image has no size'
        assert not r['requests'], f'{rel}: network requests {r["requests"]}'
        assert not r['errors'], f'{rel}: console messages {r["errors"]}'
        assert r['text'] > 200, f'{rel}: almost no text rendered'
