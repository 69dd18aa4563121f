import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { freePort, startProcess, type TestProcess, tmpDir } from '../../harness/index.ts';

export interface DockerRegistry {
  /** `http(s)://127.0.0.1:PORT`. */
  url: string;
  /** `127.0.0.1:PORT`. */
  host: string;
  port: number;
  storageDir: string;
  proc: TestProcess;
  stop(): Promise<void>;
  /** Start again on the same port and storage (after `stop`). */
  restart(): Promise<void>;
}

export interface DockerRegistryOptions {
  /** Reuse a storage directory (images pushed before survive). */
  storageDir?: string;
  tls?: { cert: string; key: string };
  /** Token auth (distribution `auth.token`): the registry demands bearer tokens from `realm`. */
  token?: { realm: string; service: string; issuer: string; rootCertBundle: string };
  /** Pull-through cache of another registry (distribution `proxy.remoteurl`). */
  proxyRemoteUrl?: string;
  port?: number;
}

/**
 * Debian's `docker-registry` (distribution 2.8) as a throwaway process on a
 * free loopback port, with filesystem storage in a temp directory. Ready once
 * `/v2/` answers (200, or 401 under token auth).
 */
export async function startDockerRegistry(opts: DockerRegistryOptions = {}): Promise<DockerRegistry> {
  const dir = await tmpDir('distribution-');
  const storageDir = opts.storageDir ?? join(dir, 'storage');
  await mkdir(storageDir, { recursive: true });
  const port = opts.port ?? (await freePort());
  const configPath = join(dir, 'config.yml');
  await writeFile(configPath, configYaml({ ...opts, storageDir, port }));
  const scheme = opts.tls ? 'https' : 'http';
  const url = `${scheme}://127.0.0.1:${port}`;
  const insecure = new Agent({ connect: { rejectUnauthorized: false } });
  const launch = () =>
    startProcess({
      cmd: 'docker-registry',
      args: ['serve', configPath],
      name: `docker-registry:${port}`,
      readyWhen: async () => {
        const res = await request(`${url}/v2/`, { dispatcher: insecure });
        await res.body.dump();
        return res.statusCode === 200 || res.statusCode === 401;
      },
      timeoutMs: 30_000,
    });
  const reg: DockerRegistry = {
    url,
    host: `127.0.0.1:${port}`,
    port,
    storageDir,
    proc: await launch(),
    stop: () => reg.proc.stop(),
    restart: async () => {
      reg.proc = await launch();
    },
  };
  return reg;
}

function configYaml(o: DockerRegistryOptions & { storageDir: string; port: number }): string {
  const lines = [
    'version: 0.1',
    'log:',
    '  level: info',
    '  accesslog:',
    '    disabled: false',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${o.storageDir}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${o.port}`,
  ];
  if (o.tls) lines.push('  tls:', `    certificate: ${o.tls.cert}`, `    key: ${o.tls.key}`);
  if (o.token) {
    lines.push(
      'auth:',
      '  token:',
      `    realm: ${o.token.realm}`,
      `    service: ${o.token.service}`,
      `    issuer: ${o.token.issuer}`,
      `    rootcertbundle: ${o.token.rootCertBundle}`,
    );
  }
  if (o.proxyRemoteUrl) lines.push('proxy:', `  remoteurl: ${o.proxyRemoteUrl}`);
  return `${lines.join('\n')}\n`;
}
