import { Readable } from 'node:stream';
import { readAtMost } from '../../upstream/body.ts';
import { UpstreamError } from '../../upstream/errors.ts';
import type { UpstreamResponse } from '../../upstream/upstream.ts';

/** At most this many pages of one upstream tag list are followed. */
export const maxTagPages = 100;
/** At most this many body bytes, all pages together. */
export const maxTagListBytes = 16 * 1024 * 1024;

/**
 * Merge a paginated upstream `tags/list` into one response, as if the
 * upstream had sent the whole list at once. Registries that paginate
 * (distribution 3, Harbor, ghcr.io, …) end each page with
 * `Link: <…?n=…&last=…>; rel="next"` (often relative, resolved against the
 * page's URL). The pages are fetched one after the other with `fetchPage`
 * (the caller's authorized GET), each next link must stay on `origin` (the
 * remote's), and together they may not exceed `maxTagPages` pages and
 * `maxTagListBytes` bytes.
 *
 * A first page without a next link is returned untouched (still streaming).
 * Otherwise the result is a 200 with `{name, tags}` (every page's tags, in
 * upstream order) and no validators or Link. Throws UpstreamError (`protocol`)
 * when a limit is exceeded, a link leaves the origin, or a later page is not
 * a JSON tag list with status 200; the fill turns that into a 502.
 */
export async function mergeTagPages(
  first: UpstreamResponse,
  opts: { remote: string; origin: string; fetchPage(url: string): Promise<UpstreamResponse> },
): Promise<UpstreamResponse> {
  if (first.status !== 200 || !nextLink(first.headers.link, first.url)) return first;
  const fail = (message: string) =>
    new UpstreamError('protocol', `tag list of remote ${opts.remote}: ${message}`, { remote: opts.remote });
  const tags: string[] = [];
  let name: unknown;
  let bytes = 0;
  let res = first;
  for (let pages = 1; ; pages++) {
    const body = await readAtMost(res.body, maxTagListBytes - bytes);
    if (!body) throw fail(`larger than ${maxTagListBytes} bytes`);
    bytes += body.length;
    const page = parsePage(body);
    if (!page) throw fail(`page ${pages} is not a tag list`);
    name ??= page.name;
    tags.push(...page.tags);
    const next = nextLink(res.headers.link, res.url);
    if (!next) break;
    if (next.origin !== opts.origin) throw fail('a next link leaves the registry origin');
    if (pages >= maxTagPages) throw fail(`more than ${maxTagPages} pages`);
    res = await opts.fetchPage(next.toString());
    if (res.status !== 200) {
      res.body.resume();
      throw fail(`page ${pages + 1} answered ${res.status}`);
    }
  }
  const merged = Buffer.from(JSON.stringify({ name, tags }));
  return {
    status: 200,
    headers: { 'content-type': 'application/json', 'content-length': String(merged.length) },
    body: Readable.from([merged]),
    url: first.url,
    redirects: first.redirects,
  };
}

/** The `rel="next"` target of a Link header, resolved against `base`; `undefined` when there is none. */
export function nextLink(header: string | undefined, base: string): URL | undefined {
  if (!header) return undefined;
  for (const part of header.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>(.*)$/.exec(part);
    const rel = m ? /;\s*rel\s*=\s*"?([^";]*)"?/i.exec(m[2]!)?.[1] : undefined;
    if (!rel?.toLowerCase().split(/\s+/).includes('next')) continue;
    try {
      return new URL(m![1]!, base);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function parsePage(body: Buffer): { name: unknown; tags: string[] } | undefined {
  try {
    const doc = JSON.parse(body.toString('utf8')) as { name?: unknown; tags?: unknown };
    if (doc.tags !== null && doc.tags !== undefined && !Array.isArray(doc.tags)) return undefined;
    const tags = (doc.tags ?? []).filter((t: unknown): t is string => typeof t === 'string');
    return { name: doc.name, tags };
  } catch {
    return undefined;
  }
}
