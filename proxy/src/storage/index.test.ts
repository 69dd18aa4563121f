import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../http/logger.ts';
import { loadSettings } from '../settings.ts';
import { createBlobStore, InvalidKeyError, registerBlobStore, registeredBlobStores } from './index.ts';

const dataDir = await mkdtemp(join(process.env.ORCHARD_TEST_TMP ?? tmpdir(), 'orchard-storage-index-'));
afterAll(() => rm(dataDir, { recursive: true, force: true }));

function capture() {
  const lines: Record<string, unknown>[] = [];
  return { lines, logger: createLogger({ write: (l) => lines.push(JSON.parse(l)) }) };
}

describe('createBlobStore', () => {
  it('defaults to the wrapped fs store under dataDir/blobs', async () => {
    const { lines, logger } = capture();
    const registry = new Registry();
    const store = await createBlobStore(loadSettings({ ORCHARD_DATA_DIR: dataDir }), { registry, logger });
    expect(store.name).toBe('fs');
    await store.put('a/b', Readable.from([Buffer.from('x')]));
    expect((await store.stat('a/b'))?.size).toBe(1);
    await expect(store.stat('../escape')).rejects.toBeInstanceOf(InvalidKeyError);
    expect(await registry.metrics()).toContain('orchard_storage_operation_duration_seconds');
    expect(lines[0]).toMatchObject({ backend: 'fs', dir: join(dataDir, 'blobs') });
    await store.delete('a/b');
    await store.close();
  });

  it('picks s3 when S3 settings are present, without logging credentials', async () => {
    const { lines, logger } = capture();
    const settings = loadSettings({
      ORCHARD_S3_ENDPOINT: 'http://127.0.0.1:9',
      ORCHARD_S3_BUCKET: 'orchard-test',
      ORCHARD_S3_ACCESS_KEY_ID: 'AKIDSECRETID',
      ORCHARD_S3_SECRET_ACCESS_KEY: 'very-secret-value',
    });
    const store = await createBlobStore(settings, { registry: new Registry(), logger });
    expect(store.name).toBe('s3');
    expect(lines[0]).toMatchObject({ backend: 's3', bucket: 'orchard-test', endpoint: 'http://127.0.0.1:9' });
    expect(JSON.stringify(lines)).not.toMatch(/very-secret-value|AKIDSECRETID/);
    await store.close();
  });

  it('lets a caller force a registered backend and rejects unknown ones', async () => {
    const { logger } = capture();
    const settings = loadSettings({ ORCHARD_DATA_DIR: dataDir });
    expect(
      (await createBlobStore(settings, { registry: new Registry(), logger, backend: 'memory' })).name,
    ).toBe('memory');
    await expect(
      createBlobStore(settings, { registry: new Registry(), logger, backend: 'nope' }),
    ).rejects.toThrow(/unknown blob store backend "nope"; known: memory, fs, s3/);
  });

  it('refuses to register a name twice', () => {
    expect(registeredBlobStores()).toEqual(['memory', 'fs', 's3']);
    expect(() => registerBlobStore('fs', () => Promise.reject(new Error('unused')))).toThrow(
      /already registered/,
    );
  });
});
