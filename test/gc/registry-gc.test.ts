import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tmpDir } from '../harness/index.ts';
import { OciClient } from '../registry/lib/oci-client.ts';
import { dockerRemote, type Orchard, startOrchard } from '../registry/lib/orchard.ts';

const blobFile = (data: string, digest: string) =>
  join(data, 'blobs', 'blobs', 'sha256', digest.slice(7, 9), digest.slice(7));
const onDisk = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

/**
 * Garbage collection through the admin endpoint, on a whole proxy with a
 * hosted docker repository: deleting an image's manifest frees its own
 * layer and manifest bytes, never what another image still uses.
 */
describe('blob garbage collection: POST /api/v1/admin/gc', () => {
  let orchard: Orchard;
  let oci: OciClient;
  let data: string;

  beforeAll(async () => {
    const dir = await tmpDir('gc-');
    data = join(dir, 'data');
    orchard = await startOrchard({
      config: dockerRemote('hosted', { type: 'local' }),
      dataDir: dir,
      // No grace period, no timer: each POST is one collection.
      env: { ORCHARD_BLOB_GC_GRACE_SECONDS: '0', ORCHARD_BLOB_GC_INTERVAL_SECONDS: '0' },
    });
    oci = new OciClient(orchard.url);
  });
  afterAll(async () => {
    await orchard?.close();
  });

  const gc = async (query = '') => {
    const r = await oci.req('POST', `/api/v1/admin/gc${query}`);
    return { status: r.status, body: r.json() as Record<string, unknown> };
  };

  it('frees a deleted image’s own blobs, keeps the config it shares with a live image', async () => {
    const gone = await oci.pushImage('hosted/app', 'old', ['layer only the old image has']);
    const kept = await oci.pushImage('hosted/app', 'new', ['layer of the new image']);
    const oldLayer = (gone.manifest.layers as { digest: string }[])[0]!.digest;
    const config = (gone.manifest.config as { digest: string }).digest;
    expect((kept.manifest.config as { digest: string }).digest).toBe(config);
    expect((await oci.req('DELETE', `/v2/hosted/app/manifests/${gone.digest}`)).status).toBe(202);

    const dry = await gc('?dryRun=true');
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ dryRun: true, deleted: 0 });
    expect(await onDisk(blobFile(data, oldLayer))).toBe(true);

    // The first run unlinks the layer from the repository and records the candidates; the next deletes them.
    const first = await gc();
    expect(first.body).toMatchObject({ dryRun: false, linksRemoved: 1, marked: 2, deleted: 0 });
    const second = await gc();
    expect(second.body).toMatchObject({ deleted: 2 });
    expect(await onDisk(blobFile(data, oldLayer))).toBe(false);
    expect(await onDisk(blobFile(data, gone.digest))).toBe(false);

    expect((await oci.req('GET', `/v2/hosted/app/blobs/${oldLayer}`)).status).toBe(404);
    const manifest = await oci.req('GET', '/v2/hosted/app/manifests/new', {
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    expect(manifest.status).toBe(200);
    for (const d of [config, (kept.manifest.layers as { digest: string }[])[0]!.digest]) {
      expect((await oci.req('GET', `/v2/hosted/app/blobs/${d}`)).status).toBe(200);
    }
    expect(await orchard.metrics()).toMatch(/orchard_blob_gc_deleted_blobs_total 2\b/);
    const last = await oci.req('GET', '/api/v1/admin/gc');
    expect(last.json()).toMatchObject({ deleted: 2, dryRun: false });
  });

  it('rejects a malformed dryRun with 400 BAD_REQUEST', async () => {
    const r = await gc('?dryRun=maybe');
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ code: 'BAD_REQUEST' });
  });
});
