import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startProcess, type TestProcess, tmpDir } from '../../harness/index.ts';

const run = promisify(execFile);

export interface Containerd {
  socket: string;
  /** `--hosts-dir` for `ctr image pull`: one `{host}/hosts.toml` per mirrored registry. */
  hostsDir: string;
  proc: TestProcess;
  /**
   * Write `{hostsDir}/{registry}/hosts.toml` sending pulls of `registry` to `mirror` (an http URL).
   * `overridePath`: the mirror URL already ends in the API root (`…/v2/{remote}`), as the operator renders it.
   */
  mirror(
    registry: string,
    mirror: string,
    fallbackServer: string,
    opts?: { overridePath?: boolean },
  ): Promise<void>;
  /** `ctr image pull --hosts-dir … --snapshotter native REF`; rejects with ctr's output. */
  pull(ref: string): Promise<string>;
  stop(): Promise<void>;
}

/**
 * A throwaway containerd (Debian's 1.6) under a temp root and state, with the
 * CRI and snapshotters that need kernel features disabled, and its `opt`
 * plugin kept inside the temp dir (PLATFORM.md). Content is shared across
 * namespaces, so every instance starts cold.
 */
export async function startContainerd(): Promise<Containerd> {
  const dir = await tmpDir('ctrd-');
  const socket = join(dir, 'c.sock');
  const hostsDir = join(dir, 'hosts');
  await mkdir(hostsDir, { recursive: true });
  const config = join(dir, 'config.toml');
  await writeFile(
    config,
    [
      'version = 2',
      `root = "${join(dir, 'root')}"`,
      `state = "${join(dir, 'state')}"`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]',
      '[grpc]',
      `  address = "${socket}"`,
      '[ttrpc]',
      `  address = "${join(dir, 't.sock')}"`,
      '[debug]',
      `  address = "${join(dir, 'd.sock')}"`,
      '[plugins."io.containerd.internal.v1.opt"]',
      `  path = "${join(dir, 'opt')}"`,
      '',
    ].join('\n'),
  );
  const proc = await startProcess({
    cmd: 'containerd',
    args: ['--config', config],
    name: 'containerd',
    readyWhen: async () =>
      existsSync(socket) && (await run('ctr', ['--address', socket, 'version'])).stdout.includes('Server'),
    timeoutMs: 30_000,
  });
  return {
    socket,
    hostsDir,
    proc,
    mirror: async (registry, mirror, fallbackServer, opts = {}) => {
      await mkdir(join(hostsDir, registry), { recursive: true });
      const override = opts.overridePath ? '  override_path = true\n' : '';
      await writeFile(
        join(hostsDir, registry, 'hosts.toml'),
        `server = "${fallbackServer}"\n\n[host."${mirror}"]\n  capabilities = ["pull", "resolve"]\n${override}`,
      );
    },
    pull: async (ref) => {
      try {
        const { stdout, stderr } = await run(
          'ctr',
          ['--address', socket, 'image', 'pull', '--hosts-dir', hostsDir, '--snapshotter', 'native', ref],
          { timeout: 120_000, maxBuffer: 8 * 1024 * 1024 },
        );
        return stdout + stderr;
      } catch (err) {
        const e = err as { stdout?: string; stderr?: string; message: string };
        throw new Error(
          `ctr image pull ${ref} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}\n${proc.logs().slice(-4000)}`,
        );
      }
    },
    stop: () => proc.stop(),
  };
}
