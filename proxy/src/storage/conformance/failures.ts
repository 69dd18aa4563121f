import { describe, expect, it } from 'vitest';
import type { ConformanceContext } from '../conformance.ts';
import { DigestMismatchError, InvalidArgumentError, StorageError } from '../errors.ts';
import {
  collectAsync,
  failingStream,
  KiB,
  MiB,
  pattern,
  patternSha256,
  patternStream,
  readAll,
} from './data.ts';

const WRONG_SHA256 = '0'.repeat(64);

/** Failed writes leave nothing visible, and never damage what was there before. */
export function describeFailures(ctx: ConformanceContext): void {
  const nothingUnder = async (key: string) => {
    expect(await ctx.store.stat(key)).toBeUndefined();
    expect(await collectAsync(ctx.store.list(key))).toEqual([]);
  };

  describe('failed writes', () => {
    it.each([
      { name: '1 KiB, declared length', size: KiB, declared: true },
      { name: '12 MiB, declared length', size: 12 * MiB, declared: true },
      { name: '12 MiB, undeclared length', size: 12 * MiB, declared: false },
    ])(
      'a wrong expectedSha256 ($name) throws DigestMismatchError and leaves nothing',
      async ({ size, declared }) => {
        const key = ctx.key('bad-digest');
        const err = await ctx.store
          .put(key, patternStream(size, 1), {
            expectedSha256: WRONG_SHA256,
            size: declared ? size : undefined,
          })
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(DigestMismatchError);
        expect(err).toMatchObject({
          expected: WRONG_SHA256,
          actual: patternSha256(size, 1),
          key,
          backend: ctx.store.name,
        });
        await nothingUnder(key);
      },
    );

    it('a wrong expectedSha256 leaves the previous object intact', async () => {
      const key = ctx.key('keep-old');
      await ctx.store.put(key, patternStream(2 * KiB, 1));
      await expect(
        ctx.store.put(key, patternStream(2 * KiB, 2), { expectedSha256: WRONG_SHA256, size: 2 * KiB }),
      ).rejects.toBeInstanceOf(DigestMismatchError);
      expect(await readAll((await ctx.store.get(key)).body)).toEqual(pattern(2 * KiB, 1));
      await ctx.store.delete(key);
    });

    it.each([
      { name: 'after 512 KiB of a declared 1 MiB', good: 512 * KiB, declared: MiB },
      { name: 'after 12 MiB of an undeclared length', good: 12 * MiB, declared: undefined },
      { name: 'before the first byte', good: 0, declared: undefined },
    ])('a body that errors $name leaves nothing', async ({ good, declared }) => {
      const key = ctx.key('broken-body');
      const err = await ctx.store
        .put(key, failingStream(good, 1), { size: declared })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StorageError);
      expect(err).toMatchObject({ backend: ctx.store.name });
      await nothingUnder(key);
    });

    it('a body that errors midway leaves the previous object intact', async () => {
      const key = ctx.key('keep-old');
      await ctx.store.put(key, patternStream(MiB, 1));
      await expect(ctx.store.put(key, failingStream(700 * KiB, 2), { size: MiB })).rejects.toBeInstanceOf(
        StorageError,
      );
      expect(await readAll((await ctx.store.get(key)).body)).toEqual(pattern(MiB, 1));
      await ctx.store.delete(key);
    });

    it.each([
      { name: 'shorter', actual: 500, declared: 1000 },
      { name: 'longer', actual: 1000, declared: 500 },
      { name: 'shorter (multipart-sized)', actual: 10 * MiB, declared: 12 * MiB },
      { name: 'longer (multipart-sized)', actual: 12 * MiB, declared: 9 * MiB },
    ])(
      'a body $name than its declared size throws InvalidArgumentError and leaves nothing',
      async ({ actual, declared }) => {
        const key = ctx.key('bad-size');
        await expect(ctx.store.put(key, patternStream(actual, 1), { size: declared })).rejects.toBeInstanceOf(
          InvalidArgumentError,
        );
        await nothingUnder(key);
      },
    );
  });
}
