import { access, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { wrapBlobStore } from './base.ts';
import { collectAsync, readAll } from './conformance/data.ts';
import { describeBlobStoreConformance, openUploadsCheck } from './conformance.ts';
import { InvalidKeyError, NotFoundError, StorageError } from './errors.ts';
import { FsBlobStore } from './fs.ts';

const root = await mkdtemp(join(process.env.ORCHARD_TEST_TMP ?? tmpdir(), 'orchard-fs-blobs-'));
afterAll(() => rm(root, { recursive: true, force: true }));

const conformanceRoot = join(root, 'conformance');
const fs = new FsBlobStore({ root: conformanceRoot });
const uploads = openUploadsCheck(fs);
const tempFiles = async () =>
  (await readdir(join(conformanceRoot, '.tmp')).catch(() => [] as string[])).map((f) => `temp file ${f}`);

describeBlobStoreConformance('fs', async () => wrapBlobStore(fs, { registry: new Registry() }), {
  leftovers: async () => [...(await uploads.leftovers()), ...(await tempFiles())],
  cleanLeftovers: async () => {
    await uploads.cleanLeftovers();
    await rm(join(conformanceRoot, '.tmp'), { recursive: true, force: true });
  },
  reopen: async () => wrapBlobStore(new FsBlobStore({ root: conformanceRoot }), { registry: new Registry() }),
});

describe('fs backend specifics', () => {
  const dir = join(root, 'specifics');
  const store = wrapBlobStore(new FsBlobStore({ root: dir }), { registry: new Registry() });
  const body = (s: string) => Readable.from([Buffer.from(s)]);

  it.each(['.tmp/x', '.uploads/x', '.tmp'])('rejects the reserved key %s', async (key) => {
    await expect(store.put(key, body('x'))).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(store.stat(key)).rejects.toBeInstanceOf(InvalidKeyError);
  });

  it('adopts a staged file by rename: the object appears whole, the staged path is gone', async () => {
    const staging = store.staging!;
    const path = await staging.path();
    expect(dirname(path)).toBe(join(dir, '.tmp'));
    await writeFile(path, 'staged bytes');
    await staging.adopt(path, 'staged/obj');
    expect((await store.stat('staged/obj'))?.size).toBe(12);
    expect(await readAll((await store.get('staged/obj')).body)).toEqual(Buffer.from('staged bytes'));
    await expect(access(path)).rejects.toThrow();
    await store.delete('staged/obj');
  });

  it('refuses to adopt a missing file, a file outside .tmp/, or under an invalid key', async () => {
    const staging = store.staging!;
    await expect(staging.adopt(await staging.path(), 'staged/missing')).rejects.toBeInstanceOf(NotFoundError);
    const outside = join(root, 'outside-file');
    await writeFile(outside, 'x');
    await expect(staging.adopt(outside, 'staged/outside')).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(access(outside)).resolves.toBeUndefined();
    await expect(staging.adopt(await staging.path(), '../escape')).rejects.toBeInstanceOf(InvalidKeyError);
    expect(await store.stat('staged/outside')).toBeUndefined();
  });

  it('cannot hold both "a" and "a/b"; the refused write leaves nothing', async () => {
    await store.put('conflict/a', body('a'));
    const err = await store.put('conflict/a/b', body('b')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect(String(err)).toMatch(/conflicts with/);
    expect(await readdir(join(dir, '.tmp'))).toEqual([]);
    await store.delete('conflict/a');
  });

  it('stores objects as plain files at their key path and prunes emptied directories', async () => {
    await store.put('blobs/sha256/ab/abcd', body('hello'));
    expect(await readdir(join(dir, 'blobs', 'sha256', 'ab'))).toEqual(['abcd']);
    await store.delete('blobs/sha256/ab/abcd');
    expect((await readdir(dir)).sort()).toEqual(['.tmp']);
  });

  it('removes stale temp files and manifest-less session dirs, and nothing younger', async () => {
    const { mkdir, writeFile, utimes } = await import('node:fs/promises');
    const gc = new FsBlobStore({ root: join(root, 'gc') });
    await gc.put('kept', body('k'));
    const id = await gc.createMultipart('open/session');
    await mkdir(join(root, 'gc', '.uploads', 'f'.repeat(32)), { recursive: true });
    await writeFile(join(root, 'gc', '.tmp', 'crashed'), 'partial');
    await writeFile(join(root, 'gc', '.tmp', 'in-flight'), 'partial');
    const old = new Date(Date.now() - 2 * 3600_000);
    await utimes(join(root, 'gc', '.tmp', 'crashed'), old, old);
    await utimes(join(root, 'gc', '.uploads', 'f'.repeat(32)), old, old);
    expect(await gc.removeStaleTemp(3600_000)).toBe(2);
    expect(await readdir(join(root, 'gc', '.tmp'))).toEqual(['in-flight']);
    expect(await readdir(join(root, 'gc', '.uploads'))).toEqual([id]);
    expect((await gc.stat('kept'))?.size).toBe(1);
  });

  it('does not list temp files or sessions', async () => {
    const id = await store.createMultipart('pending/x');
    await store.putPart('pending/x', id, 1, body('part'));
    expect(await collectAsync(store.list(''))).toEqual([]);
    await store.abortMultipart('pending/x', id);
    expect(await readdir(join(dir, '.uploads'))).toEqual([]);
  });
});
