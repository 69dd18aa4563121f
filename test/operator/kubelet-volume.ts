/**
 * TEST STAND-IN for the kubelet: keeps a directory in step with a ConfigMap
 * and a Secret of the fake API server, the way a projected volume is
 * updated — files live in a timestamped `..<ts>` directory, `..data` points
 * at it and is swapped atomically (rename of a symlink), and the visible
 * names are symlinks through `..data`. (kubernetes pkg/volume/util/atomic_writer.go)
 */
import { mkdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FakeCluster } from '../fake-apiserver/index.ts';

export interface VolumeSource {
  kind: 'ConfigMap' | 'Secret';
  name: string;
  namespace: string;
}

export interface ProjectedVolume {
  /** Write the current content now (resolves when the swap is done). */
  sync(): Promise<void>;
  stop(): void;
}

export function projectVolume(
  cluster: FakeCluster,
  dir: string,
  sources: VolumeSource[],
  intervalMs = 100,
): ProjectedVolume {
  let last = '';
  let generation = 0;
  let busy: Promise<void> | undefined;

  const files = (): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const s of sources) {
      const o = cluster.objects.get({ apiVersion: 'v1', kind: s.kind, name: s.name, namespace: s.namespace });
      for (const [k, v] of Object.entries((o?.data ?? {}) as Record<string, string>)) {
        out[k] = s.kind === 'Secret' ? Buffer.from(v, 'base64').toString('utf8') : v;
      }
    }
    return out;
  };

  async function write(content: Record<string, string>): Promise<void> {
    await mkdir(dir, { recursive: true });
    generation += 1;
    const tsDir = `..${Date.now()}_${generation}`;
    await mkdir(join(dir, tsDir));
    for (const [k, v] of Object.entries(content)) await writeFile(join(dir, tsDir, k), v);
    const old = await readlink(join(dir, '..data')).catch(() => undefined);
    await symlink(tsDir, join(dir, '..data_tmp'));
    await rename(join(dir, '..data_tmp'), join(dir, '..data'));
    for (const k of Object.keys(content)) {
      await symlink(join('..data', k), join(dir, k)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err;
      });
    }
    if (old) await rm(join(dir, old), { recursive: true, force: true });
  }

  async function sync(): Promise<void> {
    while (busy) await busy;
    const content = files();
    const key = JSON.stringify(content);
    if (key === last || Object.keys(content).length === 0) return;
    busy = write(content).finally(() => {
      busy = undefined;
    });
    await busy;
    last = key;
  }

  const timer = setInterval(() => void sync().catch(() => {}), intervalMs);
  return { sync, stop: () => clearInterval(timer) };
}
