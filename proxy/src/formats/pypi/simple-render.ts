import type { SimpleFile } from './simple-parse.ts';

/** A file as the proxy publishes it: `href` is relative to the page (or absolute), without fragment. */
export type PublishedFile = Omit<SimpleFile, 'url'> & { href: string };

export interface PublishedProject {
  name: string;
  files: PublishedFile[];
  versions?: string[];
}

// PEP 700 (upload-time, size, versions) needs API version 1.1.
const apiVersion = '1.1';

/** PEP 691 JSON project page. */
export function renderProjectJson(page: PublishedProject): Buffer {
  const files = page.files.map((f) => {
    const o: Record<string, unknown> = { filename: f.filename, url: f.href, hashes: f.hashes };
    if (f.requiresPython !== undefined) o['requires-python'] = f.requiresPython;
    if (f.coreMetadata !== undefined) {
      // Both names: `core-metadata` (PEP 714) and the older `dist-info-metadata` some clients read.
      o['core-metadata'] = f.coreMetadata;
      o['dist-info-metadata'] = f.coreMetadata;
    }
    if (f.gpgSig !== undefined) o['gpg-sig'] = f.gpgSig;
    if (f.yanked !== undefined) o.yanked = f.yanked;
    if (f.size !== undefined) o.size = f.size;
    if (f.uploadTime !== undefined) o['upload-time'] = f.uploadTime;
    return o;
  });
  const doc: Record<string, unknown> = { meta: { 'api-version': apiVersion }, name: page.name, files };
  if (page.versions) doc.versions = page.versions;
  return Buffer.from(JSON.stringify(doc));
}

/** PEP 503 HTML project page, with the PEP 592/658/714 data attributes. */
export function renderProjectHtml(page: PublishedProject): Buffer {
  const links = page.files.map((f) => {
    const attrs = [`href="${escapeHtml(f.href + hashFragment(f.hashes))}"`];
    if (f.requiresPython !== undefined) attrs.push(`data-requires-python="${escapeHtml(f.requiresPython)}"`);
    if (f.coreMetadata !== undefined) {
      const v = escapeHtml(
        f.coreMetadata === true ? 'true' : hashFragment(f.coreMetadata).slice(1) || 'true',
      );
      attrs.push(`data-dist-info-metadata="${v}"`, `data-core-metadata="${v}"`);
    }
    if (f.gpgSig !== undefined) attrs.push(`data-gpg-sig="${f.gpgSig}"`);
    if (f.yanked !== undefined) attrs.push(`data-yanked="${f.yanked === true ? '' : escapeHtml(f.yanked)}"`);
    return `    <a ${attrs.join(' ')}>${escapeHtml(f.filename)}</a><br />`;
  });
  return Buffer.from(page_(`Links for ${page.name}`, links));
}

/** PEP 691 JSON root index; project URLs are `{normalized}/`, relative to `simple/`. */
export function renderRootJson(projects: { name: string; href: string }[]): Buffer {
  return Buffer.from(
    JSON.stringify({
      meta: { 'api-version': apiVersion },
      projects: projects.map((p) => ({ name: p.name })),
    }),
  );
}

export function renderRootHtml(projects: { name: string; href: string }[]): Buffer {
  const links = projects.map((p) => `    <a href="${escapeHtml(p.href)}">${escapeHtml(p.name)}</a><br />`);
  return Buffer.from(page_('Simple index', links));
}

function page_(title: string, links: string[]): string {
  return [
    '<!DOCTYPE html>',
    '<html>',
    '  <head>',
    `    <meta name="pypi:repository-version" content="${apiVersion}">`,
    `    <title>${escapeHtml(title)}</title>`,
    '  </head>',
    '  <body>',
    `    <h1>${escapeHtml(title)}</h1>`,
    ...links,
    '  </body>',
    '</html>',
    '',
  ].join('\n');
}

/** `#sha256=…` (sha256 preferred, as pip verifies it), or '' without hashes. */
function hashFragment(hashes: Record<string, string>): string {
  const alg = hashes.sha256 !== undefined ? 'sha256' : Object.keys(hashes)[0];
  return alg === undefined ? '' : `#${alg}=${hashes[alg]}`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
