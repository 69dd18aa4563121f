import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CacheEngine, CacheResult } from '../cache/index.ts';
import { makeRemote } from '../cache/testing.ts';
import type { RemoteConfig } from '../config/index.ts';
import { MemoryCoordinator } from '../coord/memory.ts';
import { getFormat } from '../formats/index.ts';
import { ApiError } from '../http/errors.ts';
import { silentLogger } from '../http/logger.ts';
import { blobKey } from '../storage/blob-store.ts';
import { MemoryBlobStore } from '../storage/memory.ts';
import { MergedStore } from './merged-store.ts';
import { IndexMerger, type VirtualRequest } from './virtual.ts';

/** A stand-in engine: each member answers with a helm index, an ApiError, or a thrown failure. Counts calls. */
function engineOf(answers: Record<string, string | ApiError>) {
  const calls: string[] = [];
  const engine = {
    async fetch(req: { remote: RemoteConfig }): Promise<CacheResult> {
      calls.push(req.remote.name);
      await new Promise((r) => setTimeout(r, 5));
      const a = answers[req.remote.name];
      if (a instanceof ApiError) throw a;
      if (a === undefined) throw new Error(`no answer for ${req.remote.name}`);
      const body = Buffer.from(a);
      return {
        source: 'cache',
        result: 'hit',
        stale: false,
        object: {
          size: body.length,
          contentType: 'application/x-yaml',
          headers: {},
          body: Readable.from([body]),
          countServed: () => {},
        },
      };
    },
  };
  return { engine: engine as unknown as CacheEngine, calls };
}

const index = (chart: string) =>
  `entries:\n  ${chart}:\n    - { name: ${chart}, version: 1.0.0, urls: [${chart}-1.0.0.tgz] }\n`;

function setup(answers: Record<string, string | ApiError>, ttls: Record<string, number> = {}) {
  let now = Date.UTC(2024, 0, 1);
  const clock = { now: () => now };
  const coord = new MemoryCoordinator({ clock });
  const blobs = new MemoryBlobStore();
  const { engine, calls } = engineOf(answers);
  const merger = new IndexMerger({
    engine,
    store: new MergedStore({ coord, blobs }),
    blobs,
    clock,
    logger: silentLogger,
  });
  const request = (members: string[]): VirtualRequest => ({
    virtual: { name: 'all', package: 'helm', members, description: '' },
    members: members.map((m) =>
      makeRemote(m, {
        package: 'helm',
        cache: { immutableTtl: 0, mutableTtl: ttls[m] ?? 300, negativeTtl: 60 },
      }),
    ),
    format: getFormat('helm'),
    path: 'index.yaml',
    memberBase: (m) => `http://proxy.test/api/v1/remote/${m}`,
    proxyBase: 'http://proxy.test/api/v1/virtual/all',
  });
  return { merger, calls, request, blobs, advance: (ms: number) => (now += ms) };
}

async function text(blobs: MemoryBlobStore, digest: string): Promise<string> {
  const got = await blobs.get(blobKey(digest));
  const chunks: Buffer[] = [];
  for await (const c of got.body) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

describe('IndexMerger', () => {
  it('merges the members in order and keeps the merge for the smallest mutableTtl', async () => {
    const t = setup({ a: index('vault'), b: index('consul') }, { a: 300, b: 60 });
    const first = await t.merger.merged(t.request(['a', 'b']));
    expect(first.fresh).toBe(true);
    const body = await text(t.blobs, first.entry.digest);
    expect(body).toContain('http://proxy.test/api/v1/remote/a/vault-1.0.0.tgz');
    expect(body).toContain('http://proxy.test/api/v1/remote/b/consul-1.0.0.tgz');
    expect((await t.merger.merged(t.request(['a', 'b']))).fresh).toBe(false);
    expect(t.calls).toEqual(['a', 'b']);
    t.advance(61_000);
    expect((await t.merger.merged(t.request(['a', 'b']))).fresh).toBe(true);
    expect(t.calls).toEqual(['a', 'b', 'a', 'b']);
  });

  it('never serves the merge of another member list', async () => {
    const t = setup({ a: index('vault'), b: index('consul') });
    await t.merger.merged(t.request(['a', 'b']));
    expect((await t.merger.merged(t.request(['b', 'a']))).fresh).toBe(true);
  });

  it('skips members without the index, and answers 404 when none has it', async () => {
    const gone = new ApiError('NOT_FOUND', 'gone');
    const t = setup({ a: gone, b: index('consul'), c: gone });
    expect(await text(t.blobs, (await t.merger.merged(t.request(['a', 'b']))).entry.digest)).toContain(
      'consul',
    );
    await expect(t.merger.merged(t.request(['a', 'c']))).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('serves a partial merge when a member fails, without keeping it, and 502 when all fail', async () => {
    const down = new ApiError('UPSTREAM_UNREACHABLE', 'connection refused');
    const t = setup({ a: down, b: index('consul') });
    expect((await t.merger.merged(t.request(['a', 'b']))).fresh).toBe(true);
    expect((await t.merger.merged(t.request(['a', 'b']))).fresh).toBe(true);
    expect(t.calls).toEqual(['a', 'b', 'a', 'b']);
    await expect(t.merger.merged(t.request(['a']))).rejects.toMatchObject({ code: 'UPSTREAM_UNREACHABLE' });
  });

  it('shares one merge between concurrent requests', async () => {
    const t = setup({ a: index('vault'), b: index('consul') });
    const results = await Promise.all(
      Array.from({ length: 5 }, () => t.merger.merged(t.request(['a', 'b']))),
    );
    expect(new Set(results.map((r) => r.entry.digest)).size).toBe(1);
    expect(t.calls).toEqual(['a', 'b']);
  });
});
