/**
 * End to end: the fake API server (in-process), the operator as a process
 * (`node operator/src/main.ts` with a kubeconfig), a stand-in kubelet that
 * projects the operator's ConfigMap and Secret into a directory, and a real
 * proxy process (`node proxy/src/main.ts`) hot-reloading that directory.
 * Applying a Remote makes its URL serve the upstream's content; deleting it
 * makes the URL answer 404 after the reload.
 */

import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeCluster, startFakeCluster } from '../fake-apiserver/index.ts';
import { freePort, startProcess, type TestProcess, tmpDir } from '../harness/index.ts';
import { condition, ns, ref, remote } from './harness.ts';
import { eventually } from './helpers.ts';
import { type ProjectedVolume, projectVolume } from './kubelet-volume.ts';

const root = join(import.meta.dirname, '../..');

describe('operator + real proxy (end to end)', () => {
  let cluster: FakeCluster;
  let upstream: Server;
  let upstreamUrl: string;
  let volume: ProjectedVolume;
  let operator: TestProcess;
  let proxy: TestProcess;
  let proxyUrl: string;

  beforeAll(async () => {
    const dir = await tmpDir('op-e2e');
    cluster = await startFakeCluster({ bookmarkIntervalMs: 1000 });
    upstream = createServer((req, res) => {
      if (req.url === '/files/hello.txt') {
        res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '19' });
        res.end('hello from upstream');
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;

    const proxyPort = await freePort();
    proxyUrl = `http://127.0.0.1:${proxyPort}`;
    const kubeconfig = join(dir, 'kubeconfig.yaml');
    await writeFile(kubeconfig, kubeConfigYaml(cluster.server.url));
    const healthPort = await freePort();
    operator = await startProcess({
      cmd: process.execPath,
      args: [join(root, 'operator/src/main.ts')],
      env: {
        ...process.env,
        KUBECONFIG: kubeconfig,
        ORCHARD_OPERATOR_NAMESPACE: ns,
        POD_NAME: 'operator-e2e',
        ORCHARD_OPERATOR_PROXY_URL: proxyUrl,
        ORCHARD_OPERATOR_HEALTH_HOST: '127.0.0.1',
        ORCHARD_OPERATOR_HEALTH_PORT: String(healthPort),
        ORCHARD_OPERATOR_STATS_INTERVAL_SECONDS: '1',
      },
      readyWhen: /became leader/,
      timeoutMs: 30_000,
    });

    const configDir = join(dir, 'config');
    volume = projectVolume(cluster, configDir, [
      { kind: 'ConfigMap', name: 'orchard-config', namespace: ns },
      { kind: 'Secret', name: 'orchard-credentials', namespace: ns },
    ]);
    await eventually(async () => {
      await volume.sync();
      expect(
        cluster.objects.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'orchard-config', namespace: ns }),
      ).toBeDefined();
    }, 15_000);
    await volume.sync();

    proxy = await startProcess({
      cmd: process.execPath,
      args: [join(root, 'proxy/src/main.ts')],
      cwd: dir,
      env: {
        ...process.env,
        ORCHARD_SERVER_HOST: '127.0.0.1',
        ORCHARD_SERVER_PORT: String(proxyPort),
        ORCHARD_CONFIG: configDir,
        ORCHARD_DATA_DIR: join(dir, 'data'),
      },
      readyWhen: /orchard proxy listening/,
      timeoutMs: 60_000,
    });
  }, 120_000);

  afterAll(async () => {
    volume?.stop();
    await proxy?.stop();
    await operator?.stop();
    await new Promise<void>((r) => (upstream ? upstream.close(() => r()) : r()));
    await cluster?.close();
  });

  const remoteNames = async () => {
    const body = (await (await fetch(`${proxyUrl}/config`)).json()) as {
      config: { remotes: { name: string }[] };
    };
    return body.config.remotes.map((r) => r.name);
  };

  it('serves a Remote applied as a custom resource, and answers 404 once it is deleted', async () => {
    cluster.objects.create(remote('e2e-files', { baseUrl: `${upstreamUrl}/files` }));
    await eventually(async () => expect(await remoteNames()).toContain('e2e-files'), 20_000);
    await eventually(async () => {
      const res = await fetch(`${proxyUrl}/api/v1/remote/e2e-files/hello.txt`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('hello from upstream');
    }, 10_000);
    await eventually(
      () => expect(condition(cluster.objects.get(ref('Remote', 'e2e-files')), 'Ready')?.status).toBe('True'),
      10_000,
    );
    // Status feedback from the real proxy's GET /api/v1/remotes/{name}/stats.
    await eventually(() => {
      const o = cluster.objects.get(ref('Remote', 'e2e-files'));
      expect(condition(o, 'StatsAvailable')?.status).toBe('True');
      expect(o?.status).toMatchObject({ cachedObjects: 1, cachedBytes: 19 });
    }, 10_000);

    cluster.objects.delete(ref('Remote', 'e2e-files'));
    await eventually(async () => expect(await remoteNames()).not.toContain('e2e-files'), 20_000);
    const res = await fetch(`${proxyUrl}/api/v1/remote/e2e-files/hello.txt`);
    expect(res.status).toBe(404);
  });

  it('releases the leader Lease when the operator gets SIGTERM', async () => {
    await operator.stop();
    const exit = await operator.exited;
    expect(exit.code === 0 || exit.signal === 'SIGTERM').toBe(true);
    const lease = cluster.objects.get({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      name: 'orchard-operator',
      namespace: ns,
    });
    expect(lease?.spec).toBeDefined();
    expect((lease?.spec as { holderIdentity?: string } | undefined)?.holderIdentity).toBeUndefined();
    expect(operator.logs()).toContain('released the leader Lease');
  });
});

function kubeConfigYaml(server: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: fake\n  cluster:\n    server: ${server}\n    insecure-skip-tls-verify: true`,
    'users:',
    '- name: fake\n  user:\n    token: e2e-operator',
    'contexts:',
    `- name: fake\n  context:\n    cluster: fake\n    user: fake\n    namespace: ${ns}`,
    'current-context: fake',
    '',
  ].join('\n');
}
