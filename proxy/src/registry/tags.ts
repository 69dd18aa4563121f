import type { RegistryRequest } from './context.ts';
import { v2Path } from './context.ts';
import { OciError } from './errors.ts';
import { queryValue } from './http-util.ts';

/** Largest page served; a bigger `n` is clamped. Without `n` the whole list is returned. */
export const maxTagPage = 10_000;

export interface TagQuery {
  /** Page size; `undefined` means all. */
  n?: number;
  /** Return tags strictly after this one. */
  last?: string;
}

/** `n` and `last` of `tags/list` (end-8b) and `_catalog`. A malformed `n` is a 400. */
export function parseTagQuery(r: Pick<RegistryRequest, 'ctx'>): TagQuery {
  const rawN = queryValue(r.ctx, 'n');
  const last = queryValue(r.ctx, 'last');
  if (rawN === undefined) return { last };
  if (!/^\d{1,9}$/.test(rawN))
    throw new OciError('UNSUPPORTED', 'n must be a non-negative integer', { status: 400 });
  return { n: Math.min(Number(rawN), maxTagPage), last };
}

/** Apply a query to a complete list (pull-through: the upstream's whole list is cached). */
export function pageTags(all: readonly string[], q: TagQuery): { tags: string[]; more: boolean } {
  const sorted = [...all].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const after = q.last === undefined ? sorted : sorted.filter((t) => t > q.last!);
  if (q.n === undefined) return { tags: after, more: false };
  return { tags: after.slice(0, q.n), more: after.length > q.n };
}

/**
 * Answer `tags/list` (distribution spec, "Content Discovery"): `{name, tags}`
 * in lexical order, and when a page was cut short a `Link` to the next one
 * (never for `n=0`, which MUST return an empty list without Link).
 */
export function sendTags(r: RegistryRequest, page: { tags: string[]; more: boolean }, q: TagQuery): void {
  const { ctx, target } = r;
  if (q.n === 0) page = { tags: [], more: false };
  if (page.more && q.n !== undefined && page.tags.length > 0) {
    const last = page.tags[page.tags.length - 1]!;
    const next = `${v2Path(target, 'tags/list')}?n=${q.n}&last=${encodeURIComponent(last)}`;
    ctx.set('Link', `<${next}>; rel="next"`);
  }
  ctx.status = 200;
  ctx.type = 'application/json';
  ctx.body = { name: target.clientName, tags: page.tags };
}
