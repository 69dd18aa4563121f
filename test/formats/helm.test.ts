import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { helmChart } from './archives.ts';
import { helmPull, helmRepoIndex } from './helm-client.ts';
import { type Orchard, remote, startOrchard } from './orchard.ts';
import { StaticUpstream } from './static-upstream.ts';

// helm repo add / helm pull through a helm remote, over HTTP exactly as helm
// issues them (no helm binary can be had here): index.yaml, then the chart
// URL inside it, resolved against the repository URL.

const day = 86_400_000;
const upstream = new StaticUpstream();
let orchard: Orchard;
const charts: Record<string, Awaited<ReturnType<typeof helmChart>>> = {};

beforeAll(async () => {
  await upstream.start();
  charts.vault27 = await helmChart('vault', '0.27.0');
  charts.vault28 = await helmChart('vault', '0.28.0');
  charts.consul = await helmChart('consul', '1.0.0');
  charts.broken = await helmChart('broken', '1.0.0');
  const old = new Date(Date.now() - 30 * day).toISOString();
  const now = new Date().toISOString();
  const index = `apiVersion: v1
entries:
  vault:
    - name: vault
      version: 0.28.0
      created: "${now}"
      digest: ${charts.vault28.sha256}
      urls: ["${upstream.url}/charts/vault-0.28.0.tgz"]
    - name: vault
      version: 0.27.0
      appVersion: 1.10
      created: "${old}"
      digest: ${charts.vault27.sha256}
      urls: [vault-0.27.0.tgz]
  consul:
    - name: consul
      version: 1.0.0
      created: "${old}"
      digest: ${charts.consul.sha256}
      urls: [sub/consul-1.0.0.tgz]
  broken:
    - name: broken
      version: 1.0.0
      created: "${old}"
      digest: ${'0'.repeat(64)}
      urls: [broken-1.0.0.tgz]
  external:
    - name: external
      version: 1.0.0
      created: "${old}"
      urls: ["https://charts.example.invalid/external-1.0.0.tgz"]
generated: "${now}"
`;
  upstream.files.set('/charts/index.yaml', { body: index, type: 'application/x-yaml' });
  upstream.files.set('/charts/vault-0.27.0.tgz', { body: charts.vault27.bytes });
  upstream.files.set('/charts/vault-0.28.0.tgz', { body: charts.vault28.bytes });
  upstream.files.set('/charts/sub/consul-1.0.0.tgz', { body: charts.consul.bytes });
  upstream.files.set('/charts/broken-1.0.0.tgz', { body: charts.broken.bytes });
  upstream.files.set('/malformed/index.yaml', {
    body: 'apiVersion: v1\nentries: [unclosed\n',
    type: 'application/x-yaml',
  });
  upstream.files.set('/huge/index.yaml', { body: `apiVersion: v1\n# ${'x'.repeat(4096)}\nentries: {}\n` });
  const spec = (path: string, extra: Record<string, unknown> = {}) => ({
    type: 'remote',
    package: 'helm',
    baseUrl: `${upstream.url}${path}`,
    immutablePatterns: ['\\.tgz$'],
    cache: { immutableTtl: 0, mutableTtl: 3600 },
    ...extra,
  });
  orchard = await startOrchard([
    remote('charts', spec('/charts')),
    remote('charts-q', spec('/charts', { quarantine: { days: 7 } })),
    remote('charts-malformed', spec('/malformed')),
    remote('charts-huge', spec('/huge', { options: { maxIndexBytes: 1024 } })),
  ]);
}, 120_000);

afterAll(async () => {
  await orchard?.close();
  await upstream.stop();
});

describe('helm through a helm remote', () => {
  it('helm repo add gets an index whose chart URLs route through the remote', async () => {
    const { status, index } = await helmRepoIndex(orchard.remoteUrl('charts'));
    expect(status).toBe(200);
    const urls = Object.fromEntries(
      Object.values(index!.entries)
        .flat()
        .map((e) => [`${e.name}-${e.version}`, e.urls[0]]),
    );
    expect(urls).toEqual({
      'vault-0.28.0': 'vault-0.28.0.tgz',
      'vault-0.27.0': 'vault-0.27.0.tgz',
      'consul-1.0.0': 'sub/consul-1.0.0.tgz',
      'broken-1.0.0': 'broken-1.0.0.tgz',
      // Another host: this remote can only fetch from its baseUrl, so the URL is left as it is.
      'external-1.0.0': 'https://charts.example.invalid/external-1.0.0.tgz',
    });
    expect(index!.entries.vault!.find((e) => e.version === '0.27.0')).toMatchObject({ appVersion: '1.10' });
  });

  it('helm pull fetches the chart through the remote, then from the cache', async () => {
    const first = await helmPull(orchard.remoteUrl('charts'), 'consul', '1.0.0');
    expect(first.status).toBe(200);
    expect(first.url).toBe(`${orchard.remoteUrl('charts')}/sub/consul-1.0.0.tgz`);
    expect(first.bytes).toEqual(charts.consul!.bytes);
    // The client has every byte before the store commit ends; wait for it, as a later `helm pull` would.
    await orchard.engine.idle();
    const second = await helmPull(orchard.remoteUrl('charts'), 'consul', '1.0.0');
    expect(second.source).toBe('cache');
    expect(upstream.count('/charts/sub/consul-1.0.0.tgz')).toBe(1);
    expect(upstream.count('/charts/index.yaml')).toBe(1);
  });

  it('rewrites the index once per fill and serves the stored bytes on hits', async () => {
    const a = await fetch(`${orchard.remoteUrl('charts')}/index.yaml`);
    const b = await fetch(`${orchard.remoteUrl('charts')}/index.yaml`);
    expect(b.headers.get('x-artifact-source')).toBe('cache');
    expect(await a.text()).toBe(await b.text());
    expect(upstream.count('/charts/index.yaml')).toBe(1);
  });
});

describe('quarantine on a helm remote', () => {
  it('hides chart versions created too recently and refuses their download', async () => {
    const { index } = await helmRepoIndex(orchard.remoteUrl('charts-q'));
    expect(index!.entries.vault!.map((e) => e.version)).toEqual(['0.27.0']);
    const res = await fetch(`${orchard.remoteUrl('charts-q')}/vault-0.28.0.tgz`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { code: string }).code).toBe('QUARANTINED');
    const allowed = await helmPull(orchard.remoteUrl('charts-q'), 'vault', '0.27.0');
    expect(allowed.bytes).toEqual(charts.vault27!.bytes);
  });
});

describe('helm bad input', () => {
  it('fails a chart whose bytes do not match the index digest, caching nothing', async () => {
    const pulled = await helmPull(orchard.remoteUrl('charts'), 'broken', '1.0.0');
    expect(pulled.aborted === true || pulled.status === 502).toBe(true);
    expect(await orchard.engine.index.get('charts', 'broken-1.0.0.tgz')).toBeUndefined();
  });

  it('answers 502 for a malformed index and caches nothing', async () => {
    const { status } = await helmRepoIndex(orchard.remoteUrl('charts-malformed'));
    expect(status).toBe(502);
    expect(await orchard.engine.index.get('charts-malformed', 'index.yaml')).toBeUndefined();
  });

  it('answers 502 for an index larger than maxIndexBytes and caches nothing', async () => {
    const res = await fetch(`${orchard.remoteUrl('charts-huge')}/index.yaml`);
    expect(res.status).toBe(502);
    expect(((await res.json()) as { error: string }).error).toMatch(/larger than 1024 bytes/);
    expect(await orchard.engine.index.get('charts-huge', 'index.yaml')).toBeUndefined();
  });
});
