// GET /docs: a self-contained page that renders /openapi.json and lets you try
// every operation from the browser (no CDN, no dependency; the proxy may run
// air-gapped). Plain DOM code, escaped with textContent throughout.
export const docsPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Orchard API</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#222}header{background:#264d2d;color:#fff;padding:12px 24px}
main{max-width:1100px;margin:0 auto;padding:12px 24px}h2{margin-top:28px;text-transform:capitalize}
details{border:1px solid #ccc;border-radius:4px;margin:6px 0}summary{padding:6px 10px;cursor:pointer}
.m{display:inline-block;min-width:60px;font-weight:bold;text-transform:uppercase}.get{color:#2465b8}.post{color:#2f8a3b}
.put{color:#b87d24}.delete{color:#b82424}.head{color:#6a24b8}form{padding:8px 12px;border-top:1px solid #eee}
label{display:block;margin:4px 0}input[type=text]{width:420px}textarea{width:100%;height:110px;font-family:monospace}
pre{background:#f6f6f6;padding:8px;overflow:auto;max-height:400px}code{font-family:monospace}
</style></head><body><header><b>Orchard</b> hosted artifacts API · <a style="color:#cfe" href="/openapi.json">openapi.json</a></header>
<main id="root">Loading…</main>
<script>
const el = (tag, attrs = {}, ...kids) => { const e = document.createElement(tag); for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v); for (const c of kids) e.append(c); return e; };
const deref = (doc, s) => (s && s.$ref ? doc.components.schemas[s.$ref.split('/').pop()] : s) || {};
function exampleOf(doc, content) {
  const media = content && content['application/json'];
  if (!media) return '';
  if (media.example) return JSON.stringify(media.example, null, 2);
  const s = deref(doc, media.schema);
  return s.example ? JSON.stringify(s.example, null, 2) : '{}';
}
function operation(doc, path, method, op) {
  const form = el('form');
  const params = op.parameters || [];
  for (const p of params) {
    const input = el('input', { type: 'text', name: p.in + ':' + p.name, placeholder: p.description || '' });
    if (p.example) input.value = p.example;
    form.append(el('label', {}, p.name + ' (' + p.in + ') ', input));
  }
  const content = op.requestBody && op.requestBody.content;
  let bodyKind = null;
  if (content && content['multipart/form-data']) {
    bodyKind = 'multipart';
    form.append(el('label', {}, 'file ', el('input', { type: 'file', name: 'file' })));
    form.append(el('label', {}, 'tag ', el('input', { type: 'text', name: 'tag' })));
  } else if (content && content['application/octet-stream']) {
    bodyKind = 'binary';
    form.append(el('label', {}, 'body (file) ', el('input', { type: 'file', name: 'binary' })));
  } else if (content) {
    bodyKind = 'json';
    const ta = el('textarea', { name: 'json' });
    ta.value = exampleOf(doc, content);
    form.append(el('label', {}, 'JSON body', ta));
  }
  const out = el('pre');
  form.append(el('button', { type: 'submit' }, 'Send'), out);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    let url = path;
    const qs = new URLSearchParams();
    const headers = {};
    for (const p of params) {
      const v = form.elements[p.in + ':' + p.name].value;
      if (!v) continue;
      if (p.in === 'path') url = url.replace('{' + p.name + '}', encodeURIComponent(v));
      else if (p.in === 'query') qs.set(p.name, v);
      else if (p.in === 'header') headers[p.name] = v;
    }
    let body;
    if (bodyKind === 'json') { body = form.elements.json.value; headers['content-type'] = 'application/json'; }
    if (bodyKind === 'binary') body = form.elements.binary.files[0];
    if (bodyKind === 'multipart') {
      body = new FormData();
      if (form.elements.file.files[0]) body.append('file', form.elements.file.files[0]);
      if (form.elements.tag.value) body.append('tag', form.elements.tag.value);
    }
    out.textContent = '…';
    try {
      const res = await fetch(url + (qs.size ? '?' + qs : ''), { method: method.toUpperCase(), headers, body });
      const head = [...res.headers].map(([k, v]) => k + ': ' + v).join('\\n');
      const type = res.headers.get('content-type') || '';
      const text = method === 'head' ? '' : type.includes('json') ? JSON.stringify(await res.json(), null, 2) : (await res.text()).slice(0, 4000);
      out.textContent = res.status + ' ' + res.statusText + '\\n' + head + '\\n\\n' + text;
    } catch (err) { out.textContent = String(err); }
  });
  const summary = el('summary', {}, el('span', { class: 'm ' + method }, method), ' ', el('code', {}, path), ' — ' + (op.summary || ''));
  const details = el('details', {}, summary);
  if (op.description) details.append(el('p', { style: 'padding:0 12px' }, op.description));
  details.append(form);
  return details;
}
fetch('/openapi.json').then((r) => r.json()).then((doc) => {
  const root = document.getElementById('root');
  root.textContent = '';
  root.append(el('p', {}, doc.info.description || ''));
  const groups = new Map();
  for (const [path, ops] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(ops)) {
      const tag = (op.tags && op.tags[0]) || 'other';
      if (!groups.has(tag)) groups.set(tag, []);
      groups.get(tag).push(operation(doc, path, method, op));
    }
  for (const [tag, items] of groups) root.append(el('h2', {}, tag), ...items);
});
</script></body></html>`;
