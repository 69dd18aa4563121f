import { Readable } from 'node:stream';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { OPERATION_METRIC, wrapBlobStore } from './base.ts';
import type { BlobStore } from './blob-store.ts';
import { InvalidArgumentError, InvalidKeyError, NotFoundError, StorageError } from './errors.ts';
import { MemoryBlobStore } from './memory.ts';

/** The memory store with its name changed and `stat` failing the way an SDK or fs call would. */
function brokenStore(): BlobStore {
  const store = new MemoryBlobStore();
  return Object.assign(Object.create(store) as BlobStore, {
    name: 'flaky',
    stat: async () => {
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    },
  });
}

async function samples(registry: Registry) {
  const metric = await registry.getSingleMetric(OPERATION_METRIC)!.get();
  return metric.values
    .filter((v) => (v as { metricName?: string }).metricName === `${OPERATION_METRIC}_count`)
    .map((v) => ({ ...v.labels, count: v.value }));
}

describe('wrapBlobStore', () => {
  it('times every operation by backend, operation and result', async () => {
    const registry = new Registry();
    const store = wrapBlobStore(new MemoryBlobStore(), { registry });
    await store.put('a/b', Readable.from([Buffer.from('x')]));
    await store.get('a/b');
    await store.get('missing').catch(() => {});
    await store.stat('../x').catch(() => {});
    for await (const _ of store.list('a/')) {
      // drain
    }
    expect(await samples(registry)).toEqual(
      expect.arrayContaining([
        { backend: 'memory', operation: 'put', result: 'ok', count: 1 },
        { backend: 'memory', operation: 'get', result: 'ok', count: 1 },
        { backend: 'memory', operation: 'get', result: 'not_found', count: 1 },
        { backend: 'memory', operation: 'stat', result: 'invalid_key', count: 1 },
        { backend: 'memory', operation: 'list', result: 'ok', count: 1 },
      ]),
    );
  });

  it('shares one histogram between stores on one registry', async () => {
    const registry = new Registry();
    wrapBlobStore(new MemoryBlobStore(), { registry });
    expect(() => wrapBlobStore(new MemoryBlobStore(), { registry })).not.toThrow();
  });

  it('wraps foreign errors in a StorageError naming backend and key, keeping the cause', async () => {
    const store = wrapBlobStore(brokenStore(), { registry: new Registry() });
    const err = await store.stat('some/key').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect(err).toMatchObject({ backend: 'flaky', key: 'some/key' });
    expect((err as Error).message).toContain('ECONNREFUSED');
    expect((err as Error).cause).toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('stamps its backend name on typed errors raised underneath', async () => {
    const inner = new MemoryBlobStore();
    const renamed = Object.assign(Object.create(inner) as BlobStore, { name: 'renamed' });
    const err = await wrapBlobStore(renamed, { registry: new Registry() })
      .get('nope')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err).toMatchObject({ backend: 'renamed' });
  });

  it('destroys the body of a put it refuses', async () => {
    const store = wrapBlobStore(new MemoryBlobStore(), { registry: new Registry() });
    const body = Readable.from([Buffer.from('x')]);
    await expect(store.put('/abs', body)).rejects.toBeInstanceOf(InvalidKeyError);
    expect(body.destroyed).toBe(true);
  });

  it.each([
    ['size', { size: -1 }],
    ['size', { size: 1.5 }],
    ['expectedSha256', { expectedSha256: 'ABC' }],
    ['expectedSha256', { expectedSha256: 'A'.repeat(64) }],
  ])('rejects a put with a bad %s', async (_name, opts) => {
    const store = wrapBlobStore(new MemoryBlobStore(), { registry: new Registry() });
    await expect(store.put('k', Readable.from([Buffer.from('x')]), opts)).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
  });

  it.each([0, -1, 10_001, 1.5])('rejects part number %s', async (n) => {
    const store = wrapBlobStore(new MemoryBlobStore(), { registry: new Registry() });
    const id = await store.createMultipart('k');
    await expect(store.putPart('k', id, n, Readable.from([Buffer.from('x')]))).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await store.abortMultipart('k', id);
  });
});
