import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { BlobStore } from '../blob-store.ts';
import type { ConformanceContext } from '../conformance.ts';
import { InvalidKeyError } from '../errors.ts';
import { collectAsync, readAll } from './data.ts';

const BAD_KEYS: [string, string][] = [
  ['empty', ''],
  ['absolute', '/etc/passwd'],
  ['empty segment', 'a//b'],
  ['trailing slash', 'a/b/'],
  ['dot-dot segment', 'a/../b'],
  ['only dot-dot', '..'],
  ['dot segment', 'a/./b'],
  ['backslash', 'a\\..\\b'],
  ['NUL', 'a\u0000b'],
  ['newline', 'a\nb'],
  ['DEL', 'a\u007fb'],
  ['lone surrogate', 'a\ud800b'],
  ['over 1024 bytes', 'k/'.repeat(512) + 'k'],
  ['over 1024 bytes of UTF-8', 'é/'.repeat(341) + 'éé'],
  ['a segment over 255 bytes', 'a/' + 's'.repeat(256)],
];

const OPERATIONS: [string, (s: BlobStore, key: string) => Promise<unknown>][] = [
  ['put', (s, k) => s.put(k, Readable.from([Buffer.from('x')]))],
  ['get', (s, k) => s.get(k)],
  ['stat', (s, k) => s.stat(k)],
  ['delete', (s, k) => s.delete(k)],
  ['move from', (s, k) => s.move(k, 'valid/key')],
  ['move to', (s, k) => s.move('valid/key', k)],
  ['createMultipart', (s, k) => s.createMultipart(k)],
  ['putPart', (s, k) => s.putPart(k, 'id', 1, Readable.from([Buffer.from('x')]))],
  ['listParts', (s, k) => s.listParts(k, 'id')],
  ['completeMultipart', (s, k) => s.completeMultipart(k, 'id', [1])],
  ['abortMultipart', (s, k) => s.abortMultipart(k, 'id')],
];

/** Key validation by the base wrapper: bad keys never reach the backend. */
export function describeKeys(ctx: ConformanceContext): void {
  describe('keys', () => {
    it.each(BAD_KEYS)('rejects a key with %s in every operation', async (_name, key) => {
      for (const [op, call] of OPERATIONS) {
        const err = await call(ctx.store, key).then(
          () => new Error(`${op} accepted the key`),
          (e: unknown) => e,
        );
        expect(err, op).toBeInstanceOf(InvalidKeyError);
        expect(err, op).toMatchObject({ backend: ctx.store.name });
      }
    });

    it.each([
      ['absolute', '/a'],
      ['dot-dot segment', 'a/../'],
      ['NUL', 'a\u0000'],
    ])('rejects a list prefix with %s', async (_name, prefix) => {
      await expect(collectAsync(ctx.store.list(prefix))).rejects.toBeInstanceOf(InvalidKeyError);
    });

    it('accepts unusual but valid keys', async () => {
      const keys = ['sp ace/x', 'ünï/çødé', 'a.b/..c/d..', '.hidden/x', "q?&=#%+!$'()*,;:@/v"].map((k) =>
        ctx.key(k),
      );
      for (const [i, key] of keys.entries()) await ctx.store.put(key, Readable.from([Buffer.from(`v${i}`)]));
      for (const [i, key] of keys.entries()) {
        expect((await readAll((await ctx.store.get(key)).body)).toString()).toBe(`v${i}`);
      }
      const listed = (await collectAsync(ctx.store.list(ctx.prefix))).map((o) => o.key).sort();
      expect(listed).toEqual([...keys].sort());
      for (const key of keys) await ctx.store.delete(key);
    });

    it('accepts segments of 255 bytes', async () => {
      const segment = 's'.repeat(255);
      const key = ctx.key(`${segment}/${segment}/${segment}/x`);
      await ctx.store.put(key, Readable.from([Buffer.from('x')]));
      expect((await ctx.store.stat(key))?.size).toBe(1);
      await ctx.store.delete(key);
    });
  });
}
