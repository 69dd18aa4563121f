import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheEngineFor } from '../../proxy/src/cache/index.ts';
import { blobKey } from '../../proxy/src/storage/index.ts';
import { type FakeRegistry, startFakeRegistry } from './lib/fake-registry.ts';
import { digestOf, OciClient } from './lib/oci-client.ts';
import { dockerRemote, type Orchard, startOrchard } from './lib/orchard.ts';

const secret =
  'apiVersion: v1\nkind: Secret\nmetadata:\n  name: fake-creds\nstringData:\n  username: user\n  password: pass\n---\n';

/**
 * What a real registry cannot be made to do: redirect blobs to a CDN on
 * another origin (credentials must not follow), and serve bytes that do not
 * match their digest (never served as complete, never cached).
 */
describe('pull-through against a misbehaving registry', () => {
  const good = randomBytes(3 * 1024 * 1024);
  const goodDigest = digestOf(good);
  const honest = Buffer.from('the bytes this digest names');
  const honestDigest = digestOf(honest);
  const probed = randomBytes(1024 * 1024);
  const probedDigest = digestOf(probed);
  let fake: FakeRegistry;
  let orchard: Orchard;
  let oci: OciClient;

  beforeAll(async () => {
    fake = await startFakeRegistry({
      blobs: { [goodDigest]: good, [honestDigest]: honest, [probedDigest]: probed },
      corrupt: { [honestDigest]: Buffer.from('other bytes, same length!!') },
      redirect: [goodDigest, probedDigest],
    });
    orchard = await startOrchard({
      config:
        secret +
        dockerRemote('fake', {
          type: 'remote',
          baseUrl: fake.url,
          auth: { secretRef: { name: 'fake-creds' } },
        }),
    });
    oci = new OciClient(orchard.url);
  }, 60_000);

  afterAll(async () => {
    await orchard?.close();
    await fake?.close();
  });

  it('follows a blob redirect to another origin without credentials or tokens, and serves the blob', async () => {
    const r = await oci.req('GET', `/v2/fake/team/app/blobs/${goodDigest}`);
    expect(r.status).toBe(200);
    expect(digestOf(r.body)).toBe(goodDigest);
    expect(r.headers.get('docker-content-digest')).toBe(goodDigest);
    expect(fake.cdnSeen).toHaveLength(1);
    expect(fake.cdnSeen[0]!.authorization).toBeUndefined();
    // The registry's own origin gets the remote's basic credentials, then (after the challenge) the token.
    expect(fake.seen.map((s) => `${s.method} ${s.path} ${s.auth ?? '-'}`)).toEqual([
      `GET /v2/team/app/blobs/${goodDigest} Basic`,
      'GET /token Basic',
      `GET /v2/team/app/blobs/${goodDigest} Bearer`,
    ]);
  });

  it('a cold HEAD follows the redirect with a HEAD, without credentials, and caches nothing', async () => {
    const seen = fake.seen.length;
    const cdn = fake.cdnSeen.length;
    const r = await oci.req('HEAD', `/v2/fake/team/app/blobs/${probedDigest}`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-length')).toBe(String(probed.length));
    expect(r.headers.get('docker-content-digest')).toBe(probedDigest);
    // The token of the first test is reused for the same scope.
    expect(fake.seen.slice(seen).map((s) => `${s.method} ${s.path} ${s.auth ?? '-'}`)).toEqual([
      `HEAD /v2/team/app/blobs/${probedDigest} Bearer`,
    ]);
    expect(fake.cdnSeen.slice(cdn).map((c) => c.authorization)).toEqual([undefined]);
    const engine = cacheEngineFor(orchard.proxy.deps);
    expect(await engine.index.get('fake', `team/app/blobs/${probedDigest}`)).toBeUndefined();
    expect(await orchard.proxy.deps.blobs.stat(blobKey(probedDigest.slice(7)))).toBeUndefined();
  });

  it('never serves as complete, nor caches, a blob whose bytes do not match its digest', async () => {
    const path = `/v2/fake/team/app/blobs/${honestDigest}`;
    const first = await oci.req('GET', path).then(
      (r) => ({ status: r.status, ok: digestOf(r.body) === honestDigest }),
      (err: Error) => ({ status: 0, ok: false, error: err.message }),
    );
    // Either the transfer was cut (fetch fails) or an error status came: never a clean 200 with wrong bytes.
    expect(first.status === 200 && !first.ok).toBe(false);
    await orchard.settled();
    const engine = cacheEngineFor(orchard.proxy.deps);
    expect(await engine.index.get('fake', `team/app/blobs/${honestDigest}`)).toBeUndefined();
    expect(await orchard.proxy.deps.blobs.stat(blobKey(honestDigest.slice(7)))).toBeUndefined();
    expect(await orchard.metrics()).toMatch(/orchard_integrity_failures_total\{[^}]*remote="fake"[^}]*\} 1/);
  });
});

describe('pull-through of a registry with basic auth', () => {
  const blob = Buffer.from('behind basic auth');
  let fake: FakeRegistry;
  let orchard: Orchard;

  beforeAll(async () => {
    fake = await startFakeRegistry({ blobs: { [digestOf(blob)]: blob }, auth: 'basic' });
    orchard = await startOrchard({
      config:
        secret +
        dockerRemote('basic', {
          type: 'remote',
          baseUrl: fake.url,
          auth: { secretRef: { name: 'fake-creds' } },
        }) +
        dockerRemote('nocreds', { type: 'remote', baseUrl: fake.url }),
    });
  }, 60_000);

  afterAll(async () => {
    await orchard?.close();
    await fake?.close();
  });

  it('sends the Secret as basic auth to the registry and serves the blob', async () => {
    const r = await new OciClient(orchard.url).req('GET', `/v2/basic/team/app/blobs/${digestOf(blob)}`);
    expect(r.status).toBe(200);
    expect(r.body.equals(blob)).toBe(true);
    expect(fake.seen.filter((s) => s.path.includes('/blobs/')).map((s) => s.auth)).toEqual(['Basic']);
  });

  it('without credentials the upstream refusal is DENIED', async () => {
    const r = await new OciClient(orchard.url).req('GET', `/v2/nocreds/team/app/blobs/${digestOf(blob)}`);
    expect(r.status).toBe(403);
    expect(r.codes()).toEqual(['DENIED']);
  });
});
