import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MIN_PART_SIZE } from '../blob-store.ts';
import type { ConformanceContext } from '../conformance.ts';
import { InvalidArgumentError, NotFoundError, StorageError } from '../errors.ts';
import { failingStream, hashStream, KiB, pattern, sha256Of } from './data.ts';

const P = MIN_PART_SIZE;

/** Multipart sessions: any part order, retries, listing, completion rules, abort, restart. */
export function describeMultipart(ctx: ConformanceContext): void {
  const part = (size: number, seed: number) => {
    const data = pattern(size, seed);
    return { data, body: () => bodyOf(data) };
  };
  const expectObject = async (key: string, ...buffers: Buffer[]) => {
    const got = await hashStream((await ctx.store.get(key)).body);
    expect(got).toEqual({ size: buffers.reduce((n, b) => n + b.length, 0), sha256: sha256Of(...buffers) });
  };

  describe('multipart', () => {
    it('takes parts out of order, lets a retry overwrite a part, lists and completes in part order', async () => {
      const { store } = ctx;
      const key = ctx.key('mp');
      const [p1, p2, p2b, p3] = [part(P, 1), part(P, 2), part(P + 3, 22), part(10 * KiB, 3)];
      const id = await store.createMultipart(key);
      const put3 = await store.putPart(key, id, 3, p3.body(), { size: p3.data.length });
      await store.putPart(key, id, 1, p1.body());
      const first2 = await store.putPart(key, id, 2, p2.body(), { size: P });
      expect(put3).toMatchObject({ partNumber: 3, size: 10 * KiB });
      const retry2 = await store.putPart(key, id, 2, p2b.body());
      expect(retry2.etag).not.toBe(first2.etag);
      const parts = await store.listParts(key, id);
      expect(parts.map(({ partNumber, size }) => [partNumber, size])).toEqual([
        [1, P],
        [2, P + 3],
        [3, 10 * KiB],
      ]);
      expect(parts[1].etag).toBe(retry2.etag);
      expect(await store.stat(key)).toBeUndefined();
      expect(await store.completeMultipart(key, id, [1, 2, 3])).toEqual({ size: 2 * P + 3 + 10 * KiB });
      await expectObject(key, p1.data, p2b.data, p3.data);
      await expect(store.listParts(key, id)).rejects.toBeInstanceOf(NotFoundError);
      await store.delete(key);
    });

    it('publishes only the listed parts', async () => {
      const key = ctx.key('subset');
      const [p1, p2, p3] = [part(P, 1), part(P, 2), part(1000, 3)];
      const id = await ctx.store.createMultipart(key);
      await Promise.all([p1, p2, p3].map((p, i) => ctx.store.putPart(key, id, i + 1, p.body())));
      expect(await ctx.store.completeMultipart(key, id, [1, 3])).toEqual({ size: P + 1000 });
      await expectObject(key, p1.data, p3.data);
      await ctx.store.delete(key);
    });

    it.each([
      {
        name: 'a part but the last below MIN_PART_SIZE',
        sizes: [P - 1, 10],
        complete: [1, 2],
        error: 'invalid',
      },
      { name: 'descending part numbers', sizes: [P, P], complete: [2, 1], error: 'invalid' },
      { name: 'a repeated part number', sizes: [P, P], complete: [1, 1], error: 'invalid' },
      { name: 'a part that was never uploaded', sizes: [P], complete: [1, 2], error: 'not found' },
      { name: 'part number 0', sizes: [P], complete: [0, 1], error: 'invalid' },
      { name: 'no parts', sizes: [P], complete: [], error: 'invalid' },
    ])('refuses to complete with $name, publishing nothing', async ({ sizes, complete, error }) => {
      const key = ctx.key('refused');
      const id = await ctx.store.createMultipart(key);
      for (const [i, size] of sizes.entries())
        await ctx.store.putPart(key, id, i + 1, bodyOf(pattern(size, i)));
      const err = await ctx.store.completeMultipart(key, id, complete).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(error === 'invalid' ? InvalidArgumentError : NotFoundError);
      expect(await ctx.store.stat(key)).toBeUndefined();
      expect((await ctx.store.listParts(key, id)).length).toBe(sizes.length);
      await ctx.store.abortMultipart(key, id);
    });

    it('abort leaves nothing, and aborting again or an unknown session is fine', async () => {
      const key = ctx.key('aborted');
      const id = await ctx.store.createMultipart(key);
      await ctx.store.putPart(key, id, 1, bodyOf(pattern(P, 1)));
      await ctx.store.putPart(key, id, 2, bodyOf(pattern(100, 2)));
      await ctx.store.abortMultipart(key, id);
      expect(await ctx.store.stat(key)).toBeUndefined();
      await expect(ctx.store.listParts(key, id)).rejects.toBeInstanceOf(NotFoundError);
      await expect(ctx.store.completeMultipart(key, id, [1, 2])).rejects.toBeInstanceOf(NotFoundError);
      await ctx.store.abortMultipart(key, id);
    });

    it('a session is bound to its key: any other key is NotFoundError, and abort there is a no-op', async () => {
      const key = ctx.key('unknown');
      const id = await ctx.store.createMultipart(ctx.key('other'));
      await expect(ctx.store.completeMultipart(key, id, [1])).rejects.toBeInstanceOf(NotFoundError);
      await expect(ctx.store.putPart(key, id, 1, bodyOf(pattern(10, 1)))).rejects.toBeInstanceOf(
        NotFoundError,
      );
      await expect(ctx.store.listParts(key, id)).rejects.toBeInstanceOf(NotFoundError);
      await ctx.store.abortMultipart(key, id);
      expect(await ctx.store.listParts(ctx.key('other'), id)).toEqual([]);
      await ctx.store.abortMultipart(ctx.key('other'), id);
      await expect(ctx.store.listParts(ctx.key('other'), id)).rejects.toBeInstanceOf(NotFoundError);
    });

    it.each([
      { name: 'errors midway', body: () => failingStream(P / 2, 9), size: undefined as number | undefined },
      { name: 'is shorter than declared', body: () => bodyOf(pattern(P / 2, 9)), size: P },
    ])('a part whose body $name fails and keeps the earlier upload of that part', async ({ body, size }) => {
      const key = ctx.key('part-fails');
      const id = await ctx.store.createMultipart(key);
      const good = await ctx.store.putPart(key, id, 1, bodyOf(pattern(P, 1)));
      await expect(ctx.store.putPart(key, id, 1, body(), { size })).rejects.toBeInstanceOf(StorageError);
      expect(await ctx.store.listParts(key, id)).toEqual([good]);
      await ctx.store.abortMultipart(key, id);
    });

    it('completing replaces an existing object', async () => {
      const key = ctx.key('replaced');
      await ctx.store.put(key, bodyOf(pattern(100, 1)));
      const id = await ctx.store.createMultipart(key);
      const p = pattern(200, 2);
      await ctx.store.putPart(key, id, 1, bodyOf(p));
      await ctx.store.completeMultipart(key, id, [1]);
      await expectObject(key, p);
      await ctx.store.delete(key);
    });

    if (ctx.opts.reopen) {
      const reopen = ctx.opts.reopen;
      it('a session survives a restart: another store over the same state completes it', async () => {
        const key = ctx.key('restart');
        const [p1, p2] = [part(P, 1), part(300, 2)];
        const id = await ctx.store.createMultipart(key);
        await ctx.store.putPart(key, id, 1, p1.body());
        const second = await reopen();
        try {
          await second.putPart(key, id, 2, p2.body());
          expect((await second.listParts(key, id)).map((p) => p.partNumber)).toEqual([1, 2]);
          await second.completeMultipart(key, id, [1, 2]);
        } finally {
          await second.close();
        }
        await expectObject(key, p1.data, p2.data);
        await ctx.store.delete(key);
      });
    }
  });
}

function bodyOf(data: Buffer): Readable {
  return Readable.from([data], { objectMode: false });
}
