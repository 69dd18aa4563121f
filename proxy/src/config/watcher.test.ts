import { mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.ts';
import { createLogger } from '../http/logger.ts';
import { remoteYaml, tempConfig } from './test-helpers.ts';
import type { ConfigError, OrchardConfig } from './types.ts';
import { ConfigWatcher, type ConfigWatcherOptions } from './watcher.ts';

const good = (url: string) => remoteYaml('r', `package: generic\nbaseUrl: ${url}`);
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function makeWatcher(path: string, extra: Partial<ConfigWatcherOptions> = {}) {
  const events = { reloads: [] as OrchardConfig[], errors: [] as ConfigError[], logs: [] as string[] };
  const registry = new Registry();
  const watcher = new ConfigWatcher({
    path,
    logger: createLogger({ level: 'debug', write: (l) => events.logs.push(l) }),
    registry,
    clock: new ManualClock(Date.UTC(2026, 0, 2)),
    debounceMs: 30,
    pollIntervalMs: 0,
    onReload: (c) => events.reloads.push(c),
    onError: (e) => events.errors.push(e),
    ...extra,
  });
  cleanups.push(() => watcher.stop());
  const metric = async (name: string) => (await registry.getSingleMetric(name)?.get())?.values[0]?.value;
  return { watcher, events, metric };
}

async function temp(files: Record<string, string>): Promise<string> {
  const t = await tempConfig(files);
  cleanups.push(t.cleanup);
  return t.dir;
}

describe('ConfigWatcher', () => {
  it('keeps the last good config when a bad file appears, reports it, and recovers', async () => {
    const dir = await temp({ 'a.yaml': good('https://one.example.com') });
    const { watcher, events, metric } = makeWatcher(dir);
    const first = await watcher.start();
    expect(first.remotes.get('r')!.baseUrl).toBe('https://one.example.com');
    expect(await metric('orchard_config_reloads_total')).toBe(1);
    expect(await metric('orchard_config_last_reload_success_timestamp_seconds')).toBe(
      Date.UTC(2026, 0, 2) / 1000,
    );

    await writeFile(join(dir, 'b.yaml'), 'broken: [\n');
    await until(() => events.errors.length > 0, 'onError');
    expect(watcher.current()).toBe(first);
    expect(watcher.lastError()?.issues[0]).toMatchObject({ file: join(dir, 'b.yaml'), line: 2 });
    expect(await metric('orchard_config_reload_failures_total')).toBe(1);
    expect(events.logs.some((l) => l.includes('config rejected') && l.includes('b.yaml'))).toBe(true);

    await writeFile(join(dir, 'b.yaml'), good('https://two.example.com'));
    await until(() => watcher.current().remotes.get('r')!.baseUrl === 'https://two.example.com', 'reload');
    expect(events.reloads.at(-1)).toBe(watcher.current());
    expect(watcher.lastError()).toBeUndefined();
    expect(await metric('orchard_config_reloads_total')).toBe(1 + events.reloads.length);
  });

  it('follows a Kubernetes ConfigMap update (the ..data symlink swap)', async () => {
    const dir = await temp({ '..2026_01_01_00_00_00.1/config.yaml': good('https://v1.example.com') });
    await symlink('..2026_01_01_00_00_00.1', join(dir, '..data'));
    await symlink('..data/config.yaml', join(dir, 'config.yaml'));
    const { watcher } = makeWatcher(dir);
    expect((await watcher.start()).remotes.get('r')!.baseUrl).toBe('https://v1.example.com');

    // What the kubelet does: write a new timestamped dir, point ..data at it atomically, drop the old one.
    await mkdir(join(dir, '..2026_01_01_00_01_00.2'));
    await writeFile(join(dir, '..2026_01_01_00_01_00.2', 'config.yaml'), good('https://v2.example.com'));
    await symlink('..2026_01_01_00_01_00.2', join(dir, '..data_tmp'));
    await rename(join(dir, '..data_tmp'), join(dir, '..data'));
    await rm(join(dir, '..2026_01_01_00_00_00.1'), { recursive: true });

    await until(() => watcher.current().remotes.get('r')!.baseUrl === 'https://v2.example.com', 'the swap');
    expect(watcher.lastError()).toBeUndefined();
  });

  it('watches a single file through its directory', async () => {
    const dir = await temp({
      'remotes.yaml': 'remotes:\n  r:\n    package: generic\n    base_url: https://a.example.com\n',
    });
    const { watcher, events } = makeWatcher(join(dir, 'remotes.yaml'));
    await watcher.start();
    await writeFile(
      join(dir, 'remotes.yaml'),
      'remotes:\n  r:\n    package: generic\n    base_url: https://b.example.com\n',
    );
    await until(() => watcher.current().remotes.get('r')!.baseUrl === 'https://b.example.com', 'reload');
    expect(events.reloads.length).toBeGreaterThan(0);
  });

  it('notices changes by polling when filesystem events are unavailable', async () => {
    const dir = await temp({ 'a.yaml': good('https://one.example.com') });
    const { watcher, events } = makeWatcher(dir, { useFsWatch: false, pollIntervalMs: 40 });
    await watcher.start();
    await writeFile(join(dir, 'a.yaml'), good('https://polled.example.com'));
    await until(
      () => watcher.current().remotes.get('r')!.baseUrl === 'https://polled.example.com',
      'poll reload',
    );
    expect(events.reloads.length).toBeGreaterThan(0);
  });

  it('does nothing when the bytes did not change, and reports a bad file once', async () => {
    const dir = await temp({ 'a.yaml': good('https://one.example.com') });
    const { watcher, events } = makeWatcher(dir, { useFsWatch: false });
    await watcher.start();
    await writeFile(join(dir, 'a.yaml'), good('https://one.example.com'));
    expect(await watcher.reload()).toBe('unchanged');
    await writeFile(join(dir, 'a.yaml'), 'kind: [');
    expect(await watcher.reload()).toBe('failed');
    expect(await watcher.reload()).toBe('unchanged');
    expect(events.errors).toHaveLength(1);
    expect(events.reloads).toHaveLength(0);
  });

  it('rejects start() when the initial config is invalid', async () => {
    const dir = await temp({ 'a.yaml': remoteYaml('r', 'package: generic') });
    const { watcher } = makeWatcher(dir);
    await expect(watcher.start()).rejects.toMatchObject({ name: 'ConfigError' });
    expect(() => watcher.current()).toThrow(/not loaded/);
  });
});
