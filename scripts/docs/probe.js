// Appended to a copy of each page by `build_docs.check_pages`: at the load event it writes what it sees as JSON
// into a `pre#docs-probe` element for `chromium --dump-dom` to print. An image counts as decoded when it has a size
// and can be drawn (drawing a broken image throws).
addEventListener('load', () => {
  const imgs = [...document.images], side = document.querySelector('nav.sidebar'), pen = document.createElement('canvas').getContext('2d');
  const drawn = i => { try { pen.drawImage(i, 0, 0); return i.complete && i.naturalWidth > 0 && i.naturalHeight > 0; } catch (e) { return false; } };
  const out = document.createElement('pre');
  out.id = 'docs-probe';
  out.textContent = JSON.stringify({
    title: document.title, h1: (document.querySelector('h1.title') || {}).textContent || '',
    images: imgs.length, sizes: imgs.map(i => [i.naturalWidth, i.naturalHeight]),
    broken: imgs.filter(i => !drawn(i)).map(i => i.src.slice(0, 60)),
    nav: side ? side.querySelectorAll('a').length : 0, css: side ? getComputedStyle(side).position : '',
    requests: performance.getEntriesByType('resource').map(r => r.name).filter(u => !/^(file|data|about|blob):/.test(u)),
    text: document.body.innerText.length});
  document.body.append(out);
});
