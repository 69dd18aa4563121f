import { ApiError } from '../../http/errors.ts';

/**
 * The content of a simple-API page, whichever representation it came in.
 * File URLs are absolute upstream URLs (resolved against the page URL), with
 * the hash fragment moved into `hashes`.
 */
export interface SimpleFile {
  filename: string;
  url: string;
  /** Algorithm → lower-case hex. */
  hashes: Record<string, string>;
  requiresPython?: string;
  /** PEP 658/714: `true` or the metadata file's hashes. */
  coreMetadata?: true | Record<string, string>;
  gpgSig?: boolean;
  /** PEP 592: `true` or the reason. */
  yanked?: true | string;
  size?: number;
  /** PEP 700 ISO 8601 upload time. */
  uploadTime?: string;
}

export interface SimpleProjectPage {
  name: string;
  files: SimpleFile[];
  /** PEP 700 `versions`, when the upstream sent it. */
  versions?: string[];
}

export interface SimpleRootPage {
  projects: string[];
}

function malformed(what: string): ApiError {
  return new ApiError('UPSTREAM_ERROR', `the upstream simple index is malformed: ${what}`);
}

/** Whether a body is PEP 691 JSON (by content type, else by its first character). */
export function isJsonBody(body: Buffer, contentType: string | undefined): boolean {
  const ct = (contentType ?? '').toLowerCase();
  if (ct.includes('json')) return true;
  if (ct.includes('html')) return false;
  const first = body.toString('utf8', 0, Math.min(body.length, 64)).trimStart()[0];
  return first === '{';
}

function parseJson(body: Buffer): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw malformed(`invalid JSON (${(err as Error).message})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw malformed('not a JSON object');
  return doc as Record<string, unknown>;
}

/** Parse a project page (PEP 691 JSON or PEP 503 HTML). Throws UPSTREAM_ERROR when malformed. */
export function parseProjectPage(
  body: Buffer,
  contentType: string | undefined,
  pageUrl: string,
  fallbackName: string,
): SimpleProjectPage {
  if (!isJsonBody(body, contentType)) return parseProjectHtml(body.toString('utf8'), pageUrl, fallbackName);
  const doc = parseJson(body);
  if (!Array.isArray(doc.files)) throw malformed('`files` is not a list');
  const files = doc.files.map((f, i) => jsonFile(f, i, pageUrl));
  const versions = Array.isArray(doc.versions)
    ? doc.versions.filter((v): v is string => typeof v === 'string')
    : undefined;
  return { name: typeof doc.name === 'string' ? doc.name : fallbackName, files, versions };
}

function jsonFile(f: unknown, i: number, pageUrl: string): SimpleFile {
  if (typeof f !== 'object' || f === null) throw malformed(`files[${i}] is not an object`);
  const o = f as Record<string, unknown>;
  if (typeof o.filename !== 'string' || typeof o.url !== 'string')
    throw malformed(`files[${i}] lacks filename or url`);
  const { url, fragment } = resolveUrl(o.url, pageUrl);
  const hashes = { ...fragmentHash(fragment), ...hashMap(o.hashes) };
  const meta = o['core-metadata'] ?? o['dist-info-metadata'] ?? o['data-dist-info-metadata'];
  const out: SimpleFile = { filename: o.filename, url, hashes };
  if (typeof o['requires-python'] === 'string') out.requiresPython = o['requires-python'];
  if (meta === true || (typeof meta === 'object' && meta !== null))
    out.coreMetadata = meta === true ? true : hashMap(meta);
  if (o['gpg-sig'] === true) out.gpgSig = true;
  if (o.yanked === true || (typeof o.yanked === 'string' && o.yanked !== '')) out.yanked = o.yanked;
  else if (o.yanked === '') out.yanked = true;
  if (typeof o.size === 'number') out.size = o.size;
  if (typeof o['upload-time'] === 'string') out.uploadTime = o['upload-time'];
  return out;
}

function hashMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof v !== 'object' || v === null) return out;
  for (const [k, h] of Object.entries(v))
    if (typeof h === 'string' && /^[0-9a-fA-F]+$/.test(h)) out[k.toLowerCase()] = h.toLowerCase();
  return out;
}

/** Parse the root index (PEP 691 JSON or PEP 503 HTML) into project names. */
export function parseRootPage(body: Buffer, contentType: string | undefined): SimpleRootPage {
  if (!isJsonBody(body, contentType)) {
    return { projects: anchors(body.toString('utf8')).map((a) => decodeEntities(stripTags(a.text)).trim()) };
  }
  const doc = parseJson(body);
  if (!Array.isArray(doc.projects)) throw malformed('`projects` is not a list');
  return {
    projects: doc.projects.map((p, i) => {
      const name = (p as { name?: unknown } | null)?.name;
      if (typeof name !== 'string') throw malformed(`projects[${i}] has no name`);
      return name;
    }),
  };
}

function parseProjectHtml(html: string, pageUrl: string, fallbackName: string): SimpleProjectPage {
  const files: SimpleFile[] = [];
  for (const a of anchors(html)) {
    const href = a.attrs.href;
    if (href === undefined) continue;
    const { url, fragment } = resolveUrl(href, pageUrl);
    const text = decodeEntities(stripTags(a.text)).trim();
    const filename = text || decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '');
    const file: SimpleFile = { filename, url, hashes: fragmentHash(fragment) };
    const rp = a.attrs['data-requires-python'];
    if (rp !== undefined && rp !== '') file.requiresPython = rp;
    const meta = a.attrs['data-core-metadata'] ?? a.attrs['data-dist-info-metadata'];
    if (meta !== undefined) {
      const h = fragmentHash(meta);
      file.coreMetadata = Object.keys(h).length > 0 ? h : true;
    }
    if (a.attrs['data-gpg-sig'] === 'true') file.gpgSig = true;
    const yanked = a.attrs['data-yanked'];
    if (yanked !== undefined) file.yanked = yanked === '' ? true : yanked;
    files.push(file);
  }
  return { name: fallbackName, files };
}

interface Anchor {
  attrs: Record<string, string>;
  text: string;
}

/** Every `<a …>…</a>` of an HTML document, attributes decoded (names lower case). */
function anchors(html: string): Anchor[] {
  const out: Anchor[] = [];
  const re = /<a\b([^>]*)>([\s\S]*?)<\/a\s*>/gi;
  for (let m = re.exec(html); m !== null; m = re.exec(html)) {
    out.push({ attrs: parseAttributes(m[1]!), text: m[2]! });
  }
  return out;
}

function parseAttributes(s: string): Record<string, string> {
  const attrs: Record<string, string> = {};
  const re = /([^\s=/>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?/g;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    attrs[m[1]!.toLowerCase()] = decodeEntities(m[2] ?? m[3] ?? m[4] ?? '');
  }
  return attrs;
}

function stripTags(s: string): string {
  return s.replace(/<[^>]*>/g, '');
}

const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

export function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (whole, e: string) => {
    if (e[0] === '#') {
      const cp =
        e[1] === 'x' || e[1] === 'X' ? Number.parseInt(e.slice(2), 16) : Number.parseInt(e.slice(1), 10);
      return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : whole;
    }
    return named[e.toLowerCase()] ?? whole;
  });
}

/** `sha256=abc…` → `{ sha256: 'abc…' }`; anything else → `{}`. */
function fragmentHash(fragment: string): Record<string, string> {
  const m = /^([A-Za-z0-9]+)=([0-9a-fA-F]+)$/.exec(fragment.trim());
  return m ? { [m[1]!.toLowerCase()]: m[2]!.toLowerCase() } : {};
}

function resolveUrl(href: string, pageUrl: string): { url: string; fragment: string } {
  let u: URL;
  try {
    u = new URL(href, pageUrl);
  } catch {
    throw malformed(`invalid file URL ${JSON.stringify(href.slice(0, 200))}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw malformed(`file URL with scheme ${u.protocol}`);
  const fragment = u.hash.replace(/^#/, '');
  u.hash = '';
  return { url: u.toString(), fragment };
}
