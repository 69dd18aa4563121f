import { describe, expect, it } from 'vitest';
import type { ByteRange } from '../blob-store.ts';
import type { ConformanceContext } from '../conformance.ts';
import { InvalidArgumentError, RangeNotSatisfiableError } from '../errors.ts';
import { MiB, pattern, patternStream, readAll } from './data.ts';

const N = MiB + 7;
const MID = Math.floor(N / 2);

/** Byte ranges: inclusive, end clamped, past-EOF and malformed ranges rejected. */
export function describeRanges(ctx: ConformanceContext): void {
  describe('ranges', () => {
    const data = pattern(N, 42);
    const putObject = async () => {
      const key = ctx.key('ranged');
      await ctx.store.put(key, patternStream(N, 42), { size: N });
      return key;
    };

    it.each<{ name: string; range: ByteRange; served: [number, number] }>([
      { name: 'first byte', range: { start: 0, end: 0 }, served: [0, 0] },
      { name: 'first 100 bytes', range: { start: 0, end: 99 }, served: [0, 99] },
      { name: 'middle', range: { start: MID, end: MID + 999 }, served: [MID, MID + 999] },
      { name: 'last byte (N-1)', range: { start: N - 1, end: N - 1 }, served: [N - 1, N - 1] },
      { name: 'open-ended from N-1', range: { start: N - 1 }, served: [N - 1, N - 1] },
      { name: 'open-ended from the middle', range: { start: MID }, served: [MID, N - 1] },
      { name: 'open-ended from 0', range: { start: 0 }, served: [0, N - 1] },
      { name: 'end past EOF (clamped)', range: { start: N - 10, end: N + 1000 }, served: [N - 10, N - 1] },
    ])('serves the $name', async ({ range, served }) => {
      const key = await putObject();
      const got = await ctx.store.get(key, { range });
      expect(got.size).toBe(N);
      expect(got.range).toEqual({ start: served[0], end: served[1] });
      const body = await readAll(got.body);
      expect(body.length).toBe(served[1] - served[0] + 1);
      expect(body.equals(data.subarray(served[0], served[1] + 1))).toBe(true);
      await ctx.store.delete(key);
    });

    it.each<{ name: string; range: ByteRange }>([
      { name: 'start at N', range: { start: N } },
      { name: 'start past N', range: { start: N + 100, end: N + 200 } },
    ])('throws RangeNotSatisfiableError for $name', async ({ range }) => {
      const key = await putObject();
      const err = await ctx.store.get(key, { range }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RangeNotSatisfiableError);
      expect(err).toMatchObject({ size: N, key, backend: ctx.store.name });
      await ctx.store.delete(key);
    });

    it.each<{ name: string; range: ByteRange }>([
      { name: 'a negative start', range: { start: -1 } },
      { name: 'a negative start and end', range: { start: -10, end: -1 } },
      { name: 'an end before the start', range: { start: 10, end: 5 } },
      { name: 'a fractional start', range: { start: 1.5 } },
    ])('rejects $name with InvalidArgumentError', async ({ range }) => {
      const key = await putObject();
      await expect(ctx.store.get(key, { range })).rejects.toBeInstanceOf(InvalidArgumentError);
      await ctx.store.delete(key);
    });

    it('a zero-length object reads whole but has no satisfiable range', async () => {
      const key = ctx.key('empty');
      await ctx.store.put(key, patternStream(0, 1), { size: 0 });
      const whole = await ctx.store.get(key);
      expect(whole.size).toBe(0);
      expect((await readAll(whole.body)).length).toBe(0);
      await expect(ctx.store.get(key, { range: { start: 0 } })).rejects.toBeInstanceOf(
        RangeNotSatisfiableError,
      );
      await ctx.store.delete(key);
    });
  });
}
