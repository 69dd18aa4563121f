import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tmpDir } from '../harness/index.ts';
import { makeCert, type TestCert } from './lib/certs.ts';
import { type DockerRegistry, startDockerRegistry } from './lib/docker-registry.ts';
import { OciClient } from './lib/oci-client.ts';
import { type BuiltImage, OciLayout } from './lib/oci-layout.ts';
import { dockerRemote, type Orchard, startOrchard } from './lib/orchard.ts';
import { skopeoCopy } from './lib/skopeo.ts';
import { startTokenServer, type TokenServer } from './lib/token-server.ts';

const secret = (name: string, user: string, pass: string) =>
  `apiVersion: v1\nkind: Secret\nmetadata:\n  name: ${name}\nstringData:\n  username: ${user}\n  password: ${pass}\n---\n`;

/**
 * An upstream behind token auth, over TLS with certificates made here:
 * docker-registry (distribution 2.8) answers 401 with a Bearer challenge,
 * a test token server grants JWTs for basic credentials. Orchard pulls with
 * the remote's Secret; clients pull from Orchard anonymously.
 */
describe('pull-through of a registry behind bearer-token auth (TLS)', () => {
  let cert: TestCert;
  let tokens: TokenServer;
  let upstream: DockerRegistry;
  let elsewhere: DockerRegistry;
  let orchard: Orchard;
  let image: BuiltImage;

  beforeAll(async () => {
    const dir = await tmpDir('token-auth-');
    cert = await makeCert(dir);
    // Orchard (in this process) trusts the test CA, as NODE_EXTRA_CA_CERTS would make a deployment do.
    tls.setDefaultCACertificates([...tls.getCACertificates('default'), cert.certPem]);
    tokens = await startTokenServer({ cert, users: { alice: 's3cret' } });
    const token = {
      realm: tokens.realm,
      service: tokens.service,
      issuer: tokens.issuer,
      rootCertBundle: cert.certPath,
    };
    upstream = await startDockerRegistry({ tls: { cert: cert.certPath, key: cert.keyPath }, token });
    // Same storage, but its challenges name a realm on another host (localhost): never to be asked.
    elsewhere = await startDockerRegistry({
      storageDir: upstream.storageDir,
      tls: { cert: cert.certPath, key: cert.keyPath },
      token: { ...token, realm: tokens.realm.replace('127.0.0.1', 'localhost') },
    });
    const src = await OciLayout.create(join(dir, 'oci'));
    image = await src.image({ tag: 'v1', layers: [[{ name: 'secret.txt', content: 'private layer\n' }]] });
    await skopeoCopy(`oci:${src.dir}:v1`, `docker://${upstream.host}/team/app:v1`, {
      extra: ['--dest-creds', 'alice:s3cret'],
    });
    orchard = await startOrchard({
      config:
        secret('private-creds', 'alice', 's3cret') +
        secret('wrong-creds', 'alice', 'nope') +
        dockerRemote('private', {
          type: 'remote',
          baseUrl: upstream.url,
          auth: { secretRef: { name: 'private-creds' } },
        }) +
        dockerRemote('wrong', {
          type: 'remote',
          baseUrl: upstream.url,
          auth: { secretRef: { name: 'wrong-creds' } },
        }) +
        dockerRemote('anon', { type: 'remote', baseUrl: upstream.url }) +
        dockerRemote('probe', {
          type: 'remote',
          baseUrl: upstream.url,
          auth: { secretRef: { name: 'private-creds' } },
        }) +
        dockerRemote('foreign', {
          type: 'remote',
          baseUrl: elsewhere.url,
          auth: { secretRef: { name: 'private-creds' } },
        }),
    });
  }, 120_000);

  afterAll(async () => {
    await orchard?.close();
    await Promise.all([upstream?.stop(), elsewhere?.stop()]);
    await tokens?.close();
  });

  it('fetches a token with the remote credentials, then pulls the image; one token serves the whole pull', async () => {
    const before = tokens.requests.length;
    const out = await tmpDir('oci-private-');
    await skopeoCopy(`docker://${orchard.host}/private/team/app:v1`, `oci:${out}:v1`);
    const index = JSON.parse(await readFile(join(out, 'index.json'), 'utf8'));
    expect(index.manifests[0].digest).toBe(image.manifest.digest);
    const mine = tokens.requests.slice(before);
    expect(mine).toEqual([{ scopes: ['repository:team/app:pull'], user: 'alice', ok: true }]);
    expect(await orchard.metrics()).toMatch(
      /orchard_registry_token_fetches_total\{remote="private",result="ok"\} 1/,
    );
  });

  it('answers a cold HEAD through the token flow with the upstream HEAD, storing nothing', async () => {
    const before = tokens.requests.length;
    const oci = new OciClient(orchard.url);
    const blob = await oci.req('HEAD', `/v2/probe/team/app/blobs/${image.layers[0]!.digest}`);
    expect(blob.status).toBe(200);
    expect(blob.headers.get('content-length')).toBe(String(image.layers[0]!.size));
    expect(blob.headers.get('docker-content-digest')).toBe(image.layers[0]!.digest);
    const man = await oci.req('HEAD', '/v2/probe/team/app/manifests/v1');
    expect(man.status).toBe(200);
    expect(man.headers.get('docker-content-digest')).toBe(image.manifest.digest);
    expect(tokens.requests.slice(before)).toEqual([
      { scopes: ['repository:team/app:pull'], user: 'alice', ok: true },
    ]);
    const { rows } = await orchard.proxy.deps.db.query(
      "SELECT path FROM cache_entries WHERE remote = 'probe'",
    );
    expect(rows).toEqual([]);
    expect((await oci.req('HEAD', '/v2/wrong/team/app/manifests/v1')).status).toBe(403);
  });

  it('never writes the credentials or tokens into its logs', async () => {
    const text = JSON.stringify(orchard.logs);
    expect(text).not.toContain('s3cret');
    expect(text).not.toMatch(/eyJ[\w-]+\.eyJ/);
  });

  it('answers DENIED when the token server refuses the credentials', async () => {
    const oci = new OciClient(orchard.url);
    const r = await oci.req('GET', '/v2/wrong/team/app/manifests/v1');
    expect(r.status).toBe(403);
    expect(r.codes()).toEqual(['DENIED']);
    expect(tokens.requests.at(-1)).toMatchObject({ ok: false });
  });

  it('a remote without credentials gets no token from a server that requires them: DENIED', async () => {
    const oci = new OciClient(orchard.url);
    const r = await oci.req('GET', '/v2/anon/team/app/manifests/v1');
    expect(r.status).toBe(403);
    expect(tokens.requests.at(-1)).toMatchObject({ ok: false, user: undefined });
  });

  it('refuses a realm on a host the remote does not allow, without contacting it', async () => {
    const before = tokens.requests.length;
    const oci = new OciClient(orchard.url);
    const r = await oci.req('GET', '/v2/foreign/team/app/manifests/v1');
    expect(r.status).toBe(403);
    expect(r.codes()).toEqual(['DENIED']);
    expect(tokens.requests.length).toBe(before);
    expect(await orchard.metrics()).toMatch(
      /orchard_registry_token_fetches_total\{remote="foreign",result="denied"\} 1/,
    );
  });
});
