import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { UpstreamError } from '../../upstream/errors.ts';
import type { UpstreamResponse } from '../../upstream/upstream.ts';
import { maxTagListBytes, mergeTagPages, nextLink } from './tag-pages.ts';

const origin = 'https://reg.example';

function page(
  tags: string[],
  link?: string,
  status = 200,
  url = `${origin}/v2/a/tags/list`,
): UpstreamResponse {
  return {
    status,
    headers: { 'content-type': 'application/json', ...(link ? { link } : {}) },
    body: Readable.from([Buffer.from(JSON.stringify({ name: 'a', tags }))]),
    url,
    redirects: 0,
  };
}

async function text(res: UpstreamResponse): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res.body) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

describe('nextLink', () => {
  it('resolves a relative rel="next" against the page URL', () => {
    const base = `${origin}/v2/a/tags/list?n=2`;
    expect(nextLink('</v2/a/tags/list?n=2&last=b>; rel="next"', base)?.toString()).toBe(
      `${origin}/v2/a/tags/list?n=2&last=b`,
    );
  });

  it('picks the next link among several, and ignores others', () => {
    const h = '<https://x.example/prev>; rel="prev", <https://x.example/next>; rel=next';
    expect(nextLink(h, origin)?.toString()).toBe('https://x.example/next');
    expect(nextLink('<https://x.example/p>; rel="prev"', origin)).toBeUndefined();
    expect(nextLink(undefined, origin)).toBeUndefined();
  });
});

describe('mergeTagPages', () => {
  it('returns a single page untouched', async () => {
    const first = page(['a']);
    expect(await mergeTagPages(first, { remote: 'r', origin, fetchPage: () => Promise.reject() })).toBe(
      first,
    );
  });

  it('follows next links and merges the pages into one list', async () => {
    const pages: Record<string, UpstreamResponse> = {
      [`${origin}/v2/a/tags/list?last=b`]: page(['c', 'd'], '</v2/a/tags/list?last=d>; rel="next"'),
      [`${origin}/v2/a/tags/list?last=d`]: page(['e']),
    };
    const asked: string[] = [];
    const res = await mergeTagPages(page(['a', 'b'], '</v2/a/tags/list?last=b>; rel="next"'), {
      remote: 'r',
      origin,
      fetchPage: async (url) => {
        asked.push(url);
        return pages[url]!;
      },
    });
    expect(res.status).toBe(200);
    expect(res.headers.link).toBeUndefined();
    expect(JSON.parse(await text(res))).toEqual({ name: 'a', tags: ['a', 'b', 'c', 'd', 'e'] });
    expect(asked).toHaveLength(2);
  });

  it('refuses a link to another origin, a failing page, and a list over the byte limit', async () => {
    const opts = (fetchPage: (url: string) => Promise<UpstreamResponse>) => ({
      remote: 'r',
      origin,
      fetchPage,
    });
    await expect(
      mergeTagPages(
        page(['a'], '<https://evil.example/v2/a/tags/list>; rel="next"'),
        opts(async () => page([])),
      ),
    ).rejects.toThrow(/leaves the registry origin/);
    await expect(
      mergeTagPages(
        page(['a'], '</v2/a/tags/list?last=a>; rel="next"'),
        opts(async () => page([], undefined, 500)),
      ),
    ).rejects.toThrow(/page 2 answered 500/);
    const big = 'x'.repeat(maxTagListBytes);
    const err = await mergeTagPages(
      page([big], '</v2/a/tags/list?last=a>; rel="next"'),
      opts(async () => page([])),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).message).toMatch(/larger than/);
  });
});
