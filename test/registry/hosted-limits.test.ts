import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepStaleUploads } from '../../proxy/src/registry/hosted/sweep.ts';
import { registryDeps } from '../../proxy/src/registry/index.ts';
import { blobKey } from '../../proxy/src/storage/index.ts';
import { digestOf, OciClient } from './lib/oci-client.ts';
import { dockerRemote, type Orchard, startOrchard } from './lib/orchard.ts';

/** Upload size limits (ORCHARD_MAX_UPLOAD_BYTES) and the removal of abandoned upload sessions. */
describe('hosted uploads: limits and abandoned sessions', () => {
  let orchard: Orchard;
  let oci: OciClient;

  beforeAll(async () => {
    orchard = await startOrchard({
      config: dockerRemote('hosted', { type: 'local' }),
      env: { ORCHARD_MAX_UPLOAD_BYTES: '4096' },
    });
    oci = new OciClient(orchard.url);
  });
  afterAll(async () => {
    await orchard?.close();
  });

  it('a monolithic upload over the limit is 413 SIZE_INVALID and stores nothing', async () => {
    const data = randomBytes(8192);
    const r = await oci.req('POST', `/v2/hosted/big/blobs/uploads/?digest=${digestOf(data)}`, { body: data });
    expect(r.status).toBe(413);
    expect(r.codes()).toEqual(['SIZE_INVALID']);
    expect(await orchard.proxy.deps.blobs.stat(blobKey(digestOf(data).slice(7)))).toBeUndefined();
  });

  it('chunks that together pass the limit are refused at the chunk that crosses it', async () => {
    const location = (await oci.req('POST', '/v2/hosted/big/blobs/uploads/')).headers.get('location')!;
    expect(
      (await oci.req('PATCH', location, { body: randomBytes(3000), headers: { 'content-range': '0-2999' } }))
        .status,
    ).toBe(202);
    const over = await oci.req('PATCH', location, {
      body: randomBytes(3000),
      headers: { 'content-range': '3000-5999' },
    });
    expect(over.status).toBe(413);
    expect((await oci.req('GET', location)).headers.get('range')).toBe('0-2999');
  });

  it('sessions idle past their lifetime are removed with their chunks', async () => {
    const location = (await oci.req('POST', '/v2/hosted/idle/blobs/uploads/')).headers.get('location')!;
    await oci.req('PATCH', location, { body: 'abandoned chunk' });
    const chunks = async () => {
      const keys: string[] = [];
      for await (const b of orchard.proxy.deps.blobs.list(
        `tmp/registry-uploads/${location.split('/').pop()}/`,
      ))
        keys.push(b.key);
      return keys;
    };
    expect(await chunks()).toHaveLength(1);
    const deps = registryDeps(orchard.proxy.deps, { uploadIdleMs: 0 });
    expect(await sweepStaleUploads(deps, { force: true })).toBeGreaterThanOrEqual(1);
    expect(await chunks()).toEqual([]);
    const gone = await oci.req('GET', location);
    expect(gone.status).toBe(404);
    expect(gone.codes()).toEqual(['BLOB_UPLOAD_UNKNOWN']);
  });
});
