import { describe, expect, it } from 'vitest';
import type { ConformanceContext } from '../conformance.ts';
import { NotFoundError } from '../errors.ts';
import {
  collectAsync,
  hashStream,
  MiB,
  pattern,
  patternSha256,
  patternStream,
  readAll,
  sha256Of,
  slowStream,
} from './data.ts';

/** Round trips, concurrency, delete, move, list, and absent keys. */
export function describeObjects(ctx: ConformanceContext): void {
  const largeTimeout = ctx.opts.largeTimeoutMs ?? 120_000;

  describe('round trips', () => {
    it.each([
      { name: '0 B', size: 0, declared: true },
      { name: '1 MiB', size: MiB, declared: true },
      { name: '1 MiB of undeclared length', size: MiB, declared: false },
      { name: '20 MiB of undeclared length', size: 20 * MiB, declared: false },
      { name: '100 MiB', size: 100 * MiB, declared: true },
    ])('stores and returns $name intact (sha256)', { timeout: largeTimeout }, async ({ size, declared }) => {
      const { store } = ctx;
      const key = ctx.key('blob');
      const sha256 = patternSha256(size, size);
      const put = await store.put(key, patternStream(size, size), {
        expectedSha256: sha256,
        size: declared ? size : undefined,
      });
      expect(put).toEqual({ size, sha256 });
      const info = await store.stat(key);
      expect(info?.key).toBe(key);
      expect(info?.size).toBe(size);
      expect(info?.lastModified).toBeInstanceOf(Date);
      const got = await store.get(key);
      expect(got.size).toBe(size);
      expect(got.range).toBeUndefined();
      expect(await hashStream(got.body)).toEqual({ size, sha256 });
      await store.delete(key);
      expect(await store.stat(key)).toBeUndefined();
    });

    it('put without expectedSha256 reports the digest of what it stored', async () => {
      const key = ctx.key('no-digest');
      const put = await ctx.store.put(key, patternStream(12_345, 7));
      expect(put).toEqual({ size: 12_345, sha256: patternSha256(12_345, 7) });
      await ctx.store.delete(key);
    });

    it('a second put replaces the object whole', async () => {
      const key = ctx.key('replace');
      await ctx.store.put(key, patternStream(2 * MiB, 1));
      await ctx.store.put(key, patternStream(1000, 2));
      const got = await ctx.store.get(key);
      expect(await readAll(got.body)).toEqual(pattern(1000, 2));
      await ctx.store.delete(key);
    });
  });

  describe('concurrency', () => {
    it.each([
      { writers: 8, size: MiB, declared: true },
      { writers: 4, size: 12 * MiB, declared: false },
    ])(
      '$writers concurrent writers of one key ($size B): one value wins, intact',
      async ({ writers, size, declared }) => {
        const key = ctx.key('contended');
        const seeds = Array.from({ length: writers }, (_, i) => 100 + i);
        const results = await Promise.allSettled(
          seeds.map((seed) =>
            ctx.store.put(key, patternStream(size, seed), { size: declared ? size : undefined }),
          ),
        );
        expect(results.map((r) => r.status)).toEqual(seeds.map(() => 'fulfilled'));
        const got = await hashStream((await ctx.store.get(key)).body);
        expect(got.size).toBe(size);
        expect(seeds.map((s) => patternSha256(size, s))).toContain(got.sha256);
        await ctx.store.delete(key);
      },
    );

    it('64 concurrent readers at random offsets each get their exact range', async () => {
      const key = ctx.key('read-many');
      const size = 4 * MiB + 17;
      const data = pattern(size, 3);
      await ctx.store.put(key, patternStream(size, 3), { size });
      const ranges = Array.from({ length: 64 }, () => {
        const start = Math.floor(Math.random() * size);
        const end = Math.min(size - 1, start + Math.floor(Math.random() * 256 * 1024));
        return { start, end };
      });
      const bodies = await Promise.all(
        ranges.map(async (range) => {
          const got = await ctx.store.get(key, { range });
          expect(got.range).toEqual(range);
          return readAll(got.body);
        }),
      );
      bodies.forEach((body, i) => {
        expect(body.equals(data.subarray(ranges[i].start, ranges[i].end + 1))).toBe(true);
      });
      await ctx.store.delete(key);
    });

    it('readers during a replacing write see the old or the new object, never a mix', async () => {
      const key = ctx.key('swap');
      const size = 2 * MiB;
      await ctx.store.put(key, patternStream(size, 10), { size });
      const valid = [patternSha256(size, 10), patternSha256(size, 11)];
      const writing = ctx.store.put(key, slowStream(size, 11), { size });
      let done = false;
      writing.finally(() => {
        done = true;
      });
      const seen: string[] = [];
      while (!done) {
        // Yield to timers: the writer's body is fed from setTimeout.
        await new Promise((resolve) => setImmediate(resolve));
        const got = await hashStream((await ctx.store.get(key)).body);
        expect(got.size).toBe(size);
        seen.push(got.sha256);
      }
      await writing;
      seen.push((await hashStream((await ctx.store.get(key)).body)).sha256);
      for (const sha of seen) expect(valid).toContain(sha);
      expect(seen.at(-1)).toBe(valid[1]);
      await ctx.store.delete(key);
    });
  });

  describe('delete', () => {
    it('deleting "a" leaves "ab" and "a.b"', async () => {
      const { store } = ctx;
      for (const [name, seed] of [
        ['a', 1],
        ['ab', 2],
        ['a.b', 3],
      ] as const) {
        await store.put(ctx.key(name), patternStream(100, seed));
      }
      await store.delete(ctx.key('a'));
      expect(await store.stat(ctx.key('a'))).toBeUndefined();
      expect(await readAll((await store.get(ctx.key('ab'))).body)).toEqual(pattern(100, 2));
      expect((await store.stat(ctx.key('a.b')))?.size).toBe(100);
      await store.delete(ctx.key('ab'));
      await store.delete(ctx.key('a.b'));
    });

    it('deleting a key that is only a prefix of others removes nothing', async () => {
      await ctx.store.put(ctx.key('dir/x'), patternStream(10, 1));
      await ctx.store.delete(ctx.key('dir'));
      expect((await ctx.store.stat(ctx.key('dir/x')))?.size).toBe(10);
      await ctx.store.delete(ctx.key('dir/x'));
    });

    it('deleting a missing key is not an error', async () => {
      await expect(ctx.store.delete(ctx.key('never/was'))).resolves.toBeUndefined();
    });
  });

  describe('move', () => {
    it('publishes under the new key and removes the old one', async () => {
      const { store } = ctx;
      const [from, to] = [ctx.key('uploads/tmp-1'), ctx.key('blobs/final')];
      await store.put(from, patternStream(3 * MiB, 5));
      await store.move(from, to);
      expect(await store.stat(from)).toBeUndefined();
      expect(await hashStream((await store.get(to)).body)).toEqual({
        size: 3 * MiB,
        sha256: patternSha256(3 * MiB, 5),
      });
      await store.delete(to);
    });

    it('overwrites the destination', async () => {
      const [from, to] = [ctx.key('from'), ctx.key('to')];
      await ctx.store.put(to, patternStream(500, 1));
      await ctx.store.put(from, patternStream(300, 2));
      await ctx.store.move(from, to);
      expect(await readAll((await ctx.store.get(to)).body)).toEqual(pattern(300, 2));
      expect(await ctx.store.stat(from)).toBeUndefined();
      await ctx.store.delete(to);
    });

    it('throws NotFoundError when the source is missing', async () => {
      await expect(ctx.store.move(ctx.key('missing'), ctx.key('to'))).rejects.toBeInstanceOf(NotFoundError);
      expect(await ctx.store.stat(ctx.key('to'))).toBeUndefined();
    });
  });

  describe('list and absent keys', () => {
    it('lists by plain string prefix', async () => {
      const { store } = ctx;
      const names = ['a/1', 'a/2', 'ab', 'b/1', 'b/c/d'];
      for (const [i, name] of names.entries()) await store.put(ctx.key(name), patternStream(i + 1, i));
      const list = async (p: string) =>
        (await collectAsync(store.list(ctx.key(p))))
          .map((o) => [o.key.slice(ctx.prefix.length), o.size])
          .sort();
      expect(await list('')).toEqual(names.map((n, i) => [n, i + 1]));
      expect(await list('a')).toEqual([
        ['a/1', 1],
        ['a/2', 2],
        ['ab', 3],
      ]);
      expect(await list('a/')).toEqual([
        ['a/1', 1],
        ['a/2', 2],
      ]);
      expect(await list('b/c/')).toEqual([['b/c/d', 5]]);
      expect(await list('c')).toEqual([]);
      for (const info of await collectAsync(store.list(ctx.prefix)))
        expect(info.lastModified).toBeInstanceOf(Date);
      for (const name of names) await store.delete(ctx.key(name));
    });

    it('stat of a missing key is undefined; get throws NotFoundError naming key and backend', async () => {
      const key = ctx.key('absent');
      expect(await ctx.store.stat(key)).toBeUndefined();
      const err = await ctx.store.get(key).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NotFoundError);
      expect(err).toMatchObject({ key, backend: ctx.store.name });
    });

    it('a reader keeps its object after a delete', async () => {
      const key = ctx.key('held');
      await ctx.store.put(key, patternStream(MiB, 9));
      const got = await ctx.store.get(key);
      await ctx.store.delete(key);
      expect(sha256Of(await readAll(got.body))).toBe(patternSha256(MiB, 9));
    });
  });
}
