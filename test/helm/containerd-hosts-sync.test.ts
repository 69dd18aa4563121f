/**
 * The containerd hosts DaemonSet's script, as the chart renders it into its
 * ConfigMap, run by /bin/sh (dash, as in the Orchard image) against a
 * ConfigMap volume laid out the way the kubelet lays it out: keys are
 * symlinks into ..data, itself a symlink to a timestamped directory that is
 * swapped on every update.
 */
import { lstat, mkdir, readdir, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startProcess, type TestProcess, tmpDir, waitUntil } from '../harness/index.ts';
import { renderChart } from './lib/chart.ts';

const script = renderChart({
  containerd: { nodePort: { enabled: true }, hostsSync: { enabled: true } },
}).get('ConfigMap', 'orchard-containerd-hosts-sync').data['sync.sh'] as string;

const toml = (host: string, v = 1) =>
  `# v${v}\nserver = "https://${host}"\n\n[host."http://127.0.0.1:30080"]\n  capabilities = ["pull", "resolve"]\n`;

/** A ConfigMap volume as the kubelet's atomic writer maintains it. */
class ConfigMapVolume {
  readonly dir: string;
  private generation = 0;
  private keys = new Set<string>();
  constructor(dir: string) {
    this.dir = dir;
  }

  async write(data: Record<string, string>): Promise<void> {
    const ts = join(this.dir, `..2025_01_01_00_00_0${this.generation++}.${process.pid}`);
    await mkdir(ts);
    for (const [k, v] of Object.entries(data)) await writeFile(join(ts, k), v);
    const tmpLink = join(this.dir, '..data_tmp');
    await symlink(ts.split('/').pop()!, tmpLink);
    await rename(tmpLink, join(this.dir, '..data'));
    for (const k of Object.keys(data))
      if (!this.keys.has(k)) await symlink(join('..data', k), join(this.dir, k));
    for (const k of this.keys) if (!(k in data)) await rm(join(this.dir, k));
    this.keys = new Set(Object.keys(data));
  }
}

async function setup(): Promise<{ src: ConfigMapVolume; dest: string; start: () => Promise<TestProcess> }> {
  const dir = await tmpDir('hosts-sync-');
  const src = new ConfigMapVolume(join(dir, 'configmap'));
  const dest = join(dir, 'certs.d');
  await mkdir(src.dir);
  await mkdir(dest);
  await writeFile(join(dir, 'sync.sh'), script);
  const start = () =>
    startProcess({
      cmd: '/bin/sh',
      args: [join(dir, 'sync.sh')],
      env: { PATH: process.env.PATH, SRC: src.dir, DEST: dest, INTERVAL: '0.2' },
      readyWhen: /containerd-hosts-sync: writing/,
      timeoutMs: 10_000,
    });
  return { src, dest, start };
}

const read = (p: string) => readFile(p, 'utf8').catch(() => undefined);
const exists = (p: string) =>
  lstat(p).then(
    () => true,
    () => false,
  );
const until = (probe: () => Promise<boolean>) =>
  waitUntil(probe, { what: 'the hosts sync result', timeoutMs: 10_000, intervalMs: 50 });

describe('containerd hosts sync script', () => {
  it('writes <host>/hosts.toml for each key, turning ".." back into ":"', async () => {
    const { src, dest, start } = await setup();
    await src.write({
      'docker.io_hosts.toml': toml('registry-1.docker.io'),
      'registry.local..5000_hosts.toml': toml('registry.local:5000'),
      '_default_hosts.toml': toml('default'),
    });
    await start();
    await until(async () => (await read(join(dest, 'registry.local:5000/hosts.toml'))) !== undefined);
    expect(await read(join(dest, 'docker.io/hosts.toml'))).toBe(toml('registry-1.docker.io'));
    expect(await read(join(dest, 'registry.local:5000/hosts.toml'))).toBe(toml('registry.local:5000'));
    expect(await read(join(dest, '_default/hosts.toml'))).toBe(toml('default'));
    expect((await stat(join(dest, 'docker.io/hosts.toml'))).mode & 0o777).toBe(0o644);
    expect((await readdir(dest)).sort()).toEqual(['_default', 'docker.io', 'registry.local:5000']);
    expect((await readdir(join(dest, 'docker.io'))).sort()).toEqual(['.orchard-managed', 'hosts.toml']);
  });

  it('follows updates (a ..data swap) and removes what it wrote when a key goes, nothing else', async () => {
    const { src, dest, start } = await setup();
    await src.write({
      'docker.io_hosts.toml': toml('d', 1),
      'ghcr.io_hosts.toml': toml('g'),
      'quay.io_hosts.toml': toml('q'),
    });
    await mkdir(join(dest, 'node.local'));
    await writeFile(join(dest, 'node.local/hosts.toml'), 'server = "https://node.local"\n');
    const proc = await start();
    await until(async () => (await read(join(dest, 'quay.io/hosts.toml'))) !== undefined);
    await writeFile(join(dest, 'quay.io/ca.crt'), 'a CA the node admin added\n');

    await src.write({ 'docker.io_hosts.toml': toml('d', 2) });
    await until(async () => (await read(join(dest, 'docker.io/hosts.toml'))) === toml('d', 2));
    await until(async () => !(await exists(join(dest, 'ghcr.io'))));
    await until(async () => !(await exists(join(dest, 'quay.io/hosts.toml'))));
    expect(await readdir(join(dest, 'quay.io'))).toEqual(['ca.crt']);
    expect(await read(join(dest, 'node.local/hosts.toml'))).toBe('server = "https://node.local"\n');
    expect(proc.logs()).toMatch(/removed .*ghcr\.io\/hosts\.toml/);

    await src.write({});
    await until(async () => !(await exists(join(dest, 'docker.io'))));
    expect((await readdir(dest)).sort()).toEqual(['node.local', 'quay.io']);
  });

  it('skips keys that are not registry hosts and rewrites nothing that did not change', async () => {
    const { src, dest, start } = await setup();
    await src.write({
      'docker.io_hosts.toml': toml('d'),
      // Dotfiles (the kubelet's own ..data entries among them) are never keys.
      '.hidden_hosts.toml': 'x',
      '-rf_hosts.toml': 'x',
      'a b_hosts.toml': 'x',
      'notes.txt': 'not a hosts file',
    });
    const proc = await start();
    await until(async () => (await read(join(dest, 'docker.io/hosts.toml'))) !== undefined);
    const first = (await stat(join(dest, 'docker.io/hosts.toml'))).mtimeMs;
    await until(async () => (proc.logs().match(/skipping key -rf_hosts\.toml/g) ?? []).length >= 3);
    expect(await readdir(dest)).toEqual(['docker.io']);
    expect((await stat(join(dest, 'docker.io/hosts.toml'))).mtimeMs).toBe(first);
    expect(proc.logs().match(/wrote /g)).toHaveLength(1);
    expect(proc.logs()).toMatch(/skipping key a b_hosts\.toml/);
  });

  it('starts on an empty volume (the operator has not written the ConfigMap yet) and stops on SIGTERM', async () => {
    const { dest, start } = await setup();
    const proc = await start();
    await new Promise((r) => setTimeout(r, 500));
    expect(await readdir(dest)).toEqual([]);
    const t0 = Date.now();
    await proc.stop();
    expect(await proc.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - t0).toBeLessThan(3000);
  });
});
