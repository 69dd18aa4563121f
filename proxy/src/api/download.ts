import type Router from '@koa/router';
import type Koa from 'koa';
import { ApiError } from '../http/errors.ts';
import { blobKey } from '../storage/blob-store.ts';
import type { HostedDeps } from './context.ts';
import { decideRange, ifRangeMatches, noneMatch } from './ranges.ts';
import { resolveRef } from './refs.ts';
import { requirePackage } from './repo/packages.ts';
import type { ArtifactRow } from './repo/rows.ts';

const MAX_METADATA_HEADERS = 16;
const MAX_HEADER_VALUE = 256;

/**
 * `GET`/`HEAD /api/v1/project/{p}/{pkg}/+/{ref}` and the short
 * `/project/{p}/{pkg}/+/{ref}`. Streams from the blob store; single Range,
 * suffix ranges, If-Range, If-None-Match (304), and metadata headers.
 */
export function mountDownloads(router: Router, deps: HostedDeps): void {
  const handler = async (ctx: Koa.Context) => {
    const { pkg } = await requirePackage(deps.db, ctx.params.project, ctx.params.package);
    const { artifact, via } = await resolveRef(deps.db, pkg, ctx.params.ref);
    await serveArtifact(ctx, deps, artifact, via === 'artifact');
  };
  // `+` is a modifier in path patterns; escaped it matches the literal segment.
  for (const prefix of ['/api/v1/project', '/project']) {
    router.get(`${prefix}/:project/:package/\\+/:ref`, handler);
    router.head(`${prefix}/:project/:package/\\+/:ref`, handler);
  }
}

async function serveArtifact(
  ctx: Koa.Context,
  deps: HostedDeps,
  a: ArtifactRow,
  immutable: boolean,
): Promise<void> {
  const etag = `"${a.id}"`;
  const lastModified = new Date(a.created_at);
  setArtifactHeaders(ctx, a, etag, lastModified);
  // A digest ref can never change; a tag may move, so caches revalidate it (cheaply, by ETag).
  ctx.set('Cache-Control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');

  if (noneMatch(ctx.get('if-none-match'), etag)) {
    ctx.status = 304;
    return;
  }
  const rangeHeader = ctx.get('range') || undefined;
  const useRange =
    rangeHeader !== undefined && ifRangeMatches(ctx.get('if-range') || undefined, etag, lastModified);
  const decision = useRange ? decideRange(rangeHeader, a.size) : { kind: 'full' as const };
  if (decision.kind === 'unsatisfiable') {
    throw new ApiError(
      'RANGE_NOT_SATISFIABLE',
      `range ${rangeHeader} is outside the ${a.size} byte artifact`,
      {
        headers: { 'Content-Range': `bytes */${a.size}` },
      },
    );
  }
  const partial = decision.kind === 'partial';
  ctx.status = partial ? 206 : 200;
  if (partial) ctx.set('Content-Range', `bytes ${decision.start}-${decision.end}/${a.size}`);
  const length = partial ? decision.end - decision.start + 1 : a.size;
  if (ctx.method === 'HEAD') {
    ctx.length = length;
    return;
  }
  // A zero-length object can only be read without a range (BlobStore contract).
  const { body } = await deps.blobs.get(
    blobKey(a.id),
    partial ? { range: { start: decision.start, end: decision.end } } : undefined,
  );
  ctx.body = body;
  ctx.length = length;
}

function setArtifactHeaders(ctx: Koa.Context, a: ArtifactRow, etag: string, lastModified: Date): void {
  ctx.type = a.content_type || 'application/octet-stream';
  ctx.set('ETag', etag);
  ctx.set('Last-Modified', lastModified.toUTCString());
  ctx.set('Accept-Ranges', 'bytes');
  ctx.set('X-Checksum-Sha256', a.id);
  ctx.set('X-Artifact-Id', a.id);
  ctx.set('X-Artifact-Size', String(a.size));
  ctx.set('Content-Disposition', contentDisposition(a.original_name ?? a.id));
  for (const [name, value] of metadataHeaders(a.format_metadata)) ctx.set(name, value);
}

/** RFC 6266: an ASCII fallback `filename` plus the exact name as RFC 8187 `filename*`. */
export function contentDisposition(name: string): string {
  const wellFormed = name.toWellFormed();
  const fallback = wellFormed.replace(/[^\x20-\x7e]|["\\%]/gu, '_');
  const encoded = encodeURIComponent(wellFormed).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

/**
 * `X-Orchard-Format` and one `X-Orchard-Metadata-<Field>` per scalar (or list
 * of scalars) in the metadata, at most 16, values at most 256 characters and
 * percent-encoded outside printable ASCII, so a hostile package cannot bloat
 * or break the response head.
 */
export function metadataHeaders(md: Record<string, unknown>): [string, string][] {
  const out: [string, string][] = [];
  if (typeof md.format === 'string') out.push(['X-Orchard-Format', headerValue(md.format)]);
  for (const [key, value] of Object.entries(md)) {
    if (out.length > MAX_METADATA_HEADERS) break;
    if (key === 'format' || !/^[A-Za-z0-9_-]{1,64}$/.test(key)) continue;
    const text = Array.isArray(value)
      ? value.filter((v) => ['string', 'number', 'boolean'].includes(typeof v)).join(', ')
      : ['string', 'number', 'boolean'].includes(typeof value)
        ? String(value)
        : undefined;
    if (text === undefined || text === '') continue;
    out.push([`X-Orchard-Metadata-${headerName(key)}`, headerValue(text)]);
  }
  return out;
}

function headerName(key: string): string {
  return key
    .split(/[_-]/)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('-');
}

function headerValue(text: string): string {
  const safe = text.toWellFormed().replace(/[^\x20-\x7e]|%/gu, (c) => encodeURIComponent(c));
  return safe.length > MAX_HEADER_VALUE ? safe.slice(0, MAX_HEADER_VALUE) : safe;
}
