import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * `skopeo copy SRC DEST` against plain-HTTP (or self-signed) registries on
 * loopback. Rejects with skopeo's output on failure. `--all` copies every
 * image of an index.
 */
export async function skopeoCopy(
  src: string,
  dest: string,
  opts: { all?: boolean; env?: NodeJS.ProcessEnv; timeoutMs?: number; extra?: string[] } = {},
): Promise<string> {
  const args = [
    '--insecure-policy',
    'copy',
    '--src-tls-verify=false',
    '--dest-tls-verify=false',
    '--retry-times=0',
    ...(opts.all ? ['--all'] : []),
    ...(opts.extra ?? []),
    src,
    dest,
  ];
  try {
    const { stdout, stderr } = await run('skopeo', args, {
      env: { ...process.env, ...opts.env },
      timeout: opts.timeoutMs ?? 120_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout + stderr;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`skopeo copy ${src} ${dest} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

/** `skopeo inspect --raw` of an image: the manifest bytes as the registry serves them. */
export async function skopeoRawManifest(ref: string): Promise<string> {
  const { stdout } = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', ref], {
    timeout: 60_000,
  });
  return stdout;
}
