import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireEnv, tmpDir } from '../harness/index.ts';
import { type CountingProxy, startCountingProxy } from './lib/counting-proxy.ts';
import { type DockerRegistry, startDockerRegistry } from './lib/docker-registry.ts';
import { digestOf, OciClient } from './lib/oci-client.ts';
import { OciLayout, sha256 } from './lib/oci-layout.ts';
import { dockerRemote, type Orchard, startOrchard } from './lib/orchard.ts';
import { pseudoRandom, pushBlobStream, pushManifest } from './lib/push.ts';
import { skopeoCopy } from './lib/skopeo.ts';

/** Settings for a clustered replica on the services `npm test` starts (PostgreSQL, Redis, S3). */
function productionEnv(): Record<string, string> {
  const db = new URL(requireEnv('ORCHARD_TEST_DATABASE_URL'));
  return {
    ORCHARD_CLUSTERED: 'true',
    ORCHARD_DATABASE_HOST: db.hostname,
    ORCHARD_DATABASE_PORT: db.port,
    ORCHARD_DATABASE_USER: decodeURIComponent(db.username),
    ORCHARD_DATABASE_PASSWORD: decodeURIComponent(db.password),
    ORCHARD_DATABASE_DBNAME: db.pathname.slice(1),
    ORCHARD_REDIS_URL: requireEnv('ORCHARD_TEST_REDIS_URL'),
    ORCHARD_S3_ENDPOINT: requireEnv('ORCHARD_TEST_S3_ENDPOINT'),
    ORCHARD_S3_BUCKET: requireEnv('ORCHARD_TEST_S3_BUCKET'),
    ORCHARD_S3_ACCESS_KEY_ID: process.env.ORCHARD_TEST_S3_ACCESS_KEY_ID || 'S3RVER',
    ORCHARD_S3_SECRET_ACCESS_KEY: process.env.ORCHARD_TEST_S3_SECRET_ACCESS_KEY || 'S3RVER',
  };
}

/**
 * Two clustered replicas on the production backends (PostgreSQL, Redis, an
 * S3 server): a push to one pulls from the other, an upload session moves
 * between replicas chunk by chunk, and cold pulls spread over both replicas
 * still make one upstream fetch.
 */
describe('registry on two replicas sharing PostgreSQL, Redis and S3', () => {
  const id = randomBytes(4).toString('hex');
  const hosted = `hosted-${id}`;
  const cache = `cache-${id}`;
  const layerSize = 32 * 1024 * 1024;
  let upstream: DockerRegistry;
  let counting: CountingProxy;
  let a: Orchard;
  let b: Orchard;
  let layer: string;

  beforeAll(async () => {
    const env = productionEnv();
    upstream = await startDockerRegistry();
    counting = await startCountingProxy(upstream.url);
    layer = await pushBlobStream(upstream.url, 'team/big', layerSize, () =>
      pseudoRandom(layerSize, Number.parseInt(id, 16)),
    );
    await pushManifest(upstream.url, 'team/big', 'v1', [{ digest: layer, size: layerSize }]);
    const config =
      dockerRemote(hosted, { type: 'local' }) +
      dockerRemote(cache, { type: 'remote', baseUrl: counting.url });
    [a, b] = await Promise.all([startOrchard({ config, env }), startOrchard({ config, env })]);
  }, 180_000);

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await counting?.close();
    await upstream?.stop();
  });

  it('an image pushed to one replica with skopeo pulls from the other, identical', async () => {
    const src = await OciLayout.create(await tmpDir('oci-rep-'));
    const img = await src.image({
      tag: 'v1',
      layers: [[{ name: 'a', content: `replica ${id}\n` }], [{ name: 'b', content: 'x'.repeat(100_000) }]],
    });
    await skopeoCopy(`oci:${src.dir}:v1`, `docker://${a.host}/${hosted}/team/app:v1`);
    const out = await tmpDir('oci-rep-out-');
    await skopeoCopy(`docker://${b.host}/${hosted}/team/app:v1`, `oci:${out}:v1`);
    const index = JSON.parse(await readFile(join(out, 'index.json'), 'utf8'));
    expect(index.manifests[0].digest).toBe(img.manifest.digest);
    for (const d of img.layers)
      expect(`sha256:${sha256(await readFile(join(out, 'blobs', 'sha256', d.digest.slice(7))))}`).toBe(
        d.digest,
      );
  });

  it('an upload session started on one replica continues and finishes on the other', async () => {
    const data = randomBytes(64 * 1024);
    const oa = new OciClient(a.url);
    const ob = new OciClient(b.url);
    const location = (await oa.req('POST', `/v2/${hosted}/chunked/blobs/uploads/`)).headers.get('location')!;
    expect(
      (
        await ob.req('PATCH', location, {
          body: data.subarray(0, 40_000),
          headers: { 'content-range': '0-39999' },
        })
      ).status,
    ).toBe(202);
    expect((await oa.req('GET', location)).headers.get('range')).toBe('0-39999');
    const skipped = await oa.req('PATCH', location, {
      body: data.subarray(50_000),
      headers: { 'content-range': '50000-65535' },
    });
    expect(skipped.status).toBe(416);
    await oa.req('PATCH', location, {
      body: data.subarray(40_000),
      headers: { 'content-range': '40000-65535' },
    });
    expect((await ob.req('PUT', `${location}?digest=${digestOf(data)}`)).status).toBe(201);
    expect((await oa.req('GET', `/v2/${hosted}/chunked/blobs/${digestOf(data)}`)).body.equals(data)).toBe(
      true,
    );
  });

  it('8 cold pulls of one layer spread over both replicas make exactly 1 upstream GET', async () => {
    const pull = async (o: Orchard) => {
      const res = await request(`${o.url}/v2/${cache}/team/big/blobs/${layer}`);
      const hash = createHash('sha256');
      for await (const c of res.body) hash.update(c as Buffer);
      return `sha256:${hash.digest('hex')}`;
    };
    const got = await Promise.all([a, b, a, b, a, b, a, b].map(pull));
    expect(new Set(got)).toEqual(new Set([layer]));
    expect(counting.count('GET', new RegExp(`/blobs/${layer}$`))).toBe(1);
  }, 120_000);

  it('GET /v2/_catalog on PostgreSQL lists hosted and cached repositories in byte order', async () => {
    await Promise.all([a.settled(), b.settled()]);
    const r = await new OciClient(b.url).req('GET', '/v2/_catalog?n=10');
    expect(r.status).toBe(200);
    expect(r.json<{ repositories: string[] }>().repositories).toEqual([
      `${cache}/team/big`,
      `${hosted}/chunked`,
      `${hosted}/team/app`,
    ]);
    const page = await new OciClient(a.url).req('GET', `/v2/_catalog?n=1&last=${cache}/team/big`);
    expect(page.json<{ repositories: string[] }>().repositories).toEqual([`${hosted}/chunked`]);
    expect(page.headers.get('link')).toBe(
      `</v2/_catalog?n=1&last=${encodeURIComponent(`${hosted}/chunked`)}>; rel="next"`,
    );
  });
});
