import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tmpDir } from '../harness/index.ts';
import { type Containerd, startContainerd } from './lib/containerd.ts';
import { type DockerRegistry, startDockerRegistry } from './lib/docker-registry.ts';
import { type BuiltImage, OciLayout } from './lib/oci-layout.ts';
import { dockerRemote, type Orchard, startOrchard } from './lib/orchard.ts';
import { skopeoCopy } from './lib/skopeo.ts';

/**
 * containerd's registry mirror (hosts.toml) pointed at Orchard: requests come
 * as `/v2/{name}/…?ns={registry}` and are routed through the remote whose
 * `mirrorOf` lists that registry. containerd silently falls back to the
 * `server` when a mirror fails, so the fallback here is unreachable and the
 * test also asserts on Orchard's own request log and metrics.
 */
describe('containerd pulls through Orchard in mirror mode', () => {
  let upstream: DockerRegistry;
  let orchard: Orchard;
  let ctrd: Containerd;
  let hello: BuiltImage;
  let app: BuiltImage;
  const unreachable = 'http://127.0.0.1:9';

  beforeAll(async () => {
    upstream = await startDockerRegistry();
    const src = await OciLayout.create(await tmpDir('oci-ctr-'));
    hello = await src.image({
      tag: 'hello',
      layers: [
        [{ name: 'hello.txt', content: 'hello from the mirror\n' }],
        [{ name: 'etc/motd', content: 'second layer\n' }],
      ],
    });
    app = await src.image({ tag: 'app', layers: [[{ name: 'app.txt', content: 'private registry app\n' }]] });
    await skopeoCopy(`oci:${src.dir}:hello`, `docker://${upstream.host}/library/hello:1.0`);
    await skopeoCopy(`oci:${src.dir}:app`, `docker://${upstream.host}/team/app:v1`);
    orchard = await startOrchard({
      config:
        dockerRemote('dockerhub', { type: 'remote', baseUrl: upstream.url, mirrorOf: ['docker.io'] }) +
        dockerRemote('corp', {
          type: 'remote',
          baseUrl: upstream.url,
          mirrorOf: ['registry.corp.example:5000'],
        }),
    });
    ctrd = await startContainerd();
    await ctrd.mirror('docker.io', orchard.url, unreachable);
    await ctrd.mirror('registry.corp.example:5000', orchard.url, unreachable);
  }, 120_000);

  afterAll(async () => {
    await ctrd?.stop();
    await orchard?.close();
    await upstream?.stop();
  });

  it('pulls docker.io/library/hello:1.0 via ?ns=docker.io and unpacks it', async () => {
    const out = await ctrd.pull('docker.io/library/hello:1.0');
    expect(out).toMatch(/done|unpacking/i);
    const mirrored = orchard.requests().filter((r) => r.path.startsWith('/v2/library/hello/'));
    expect(mirrored.some((r) => r.path === '/v2/library/hello/manifests/1.0' && r.status === 200)).toBe(true);
    for (const l of hello.layers) {
      expect(mirrored.some((r) => r.path === `/v2/library/hello/blobs/${l.digest}` && r.status === 200)).toBe(
        true,
      );
    }
    expect(await orchard.metrics()).toMatch(
      /orchard_registry_requests_total\{remote="dockerhub",mode="mirror",operation="blob",status="200"\} [1-9]/,
    );
  });

  it('routes another registry host through its own remote (closed list)', async () => {
    await ctrd.pull('registry.corp.example:5000/team/app:v1');
    const r = orchard.requests().find((x) => x.path === '/v2/team/app/manifests/v1');
    expect(r?.status).toBe(200);
    expect(await orchard.metrics()).toMatch(
      /orchard_registry_requests_total\{remote="corp",mode="mirror",operation="manifest"/,
    );
    expect(
      orchard
        .requests()
        .some((x) => x.path === `/v2/team/app/blobs/${app.layers[0]!.digest}` && x.status === 200),
    ).toBe(true);
  });

  it('with a mirror URL naming the remote (override_path, like RKE2 rewrites), the path picks the remote', async () => {
    await ctrd.mirror('images.example', `${orchard.url}/v2/dockerhub`, unreachable, { overridePath: true });
    await ctrd.pull('images.example/library/hello:1.0');
    const r = orchard.requests().find((x) => x.path === '/v2/dockerhub/library/hello/manifests/1.0');
    expect(r?.status).toBe(200);
    expect(await orchard.metrics()).toMatch(
      /orchard_registry_requests_total\{remote="dockerhub",mode="remote",operation="manifest"/,
    );
  });

  it('refuses a registry no remote mirrors, so containerd cannot get it through Orchard', async () => {
    await ctrd.mirror('unlisted.example', orchard.url, unreachable);
    await expect(ctrd.pull('unlisted.example/team/app:v1')).rejects.toThrow(/failed/);
    const r = orchard.requests().find((x) => x.path === '/v2/team/app/manifests/v1' && x.status === 404);
    expect(r).toBeDefined();
  });
});
