import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { tmpDir } from '../harness/index.ts';
import { runClient } from './clients.ts';

/** A .tgz of `files` (paths relative to the archive root), built with tar; its bytes and digests. */
export async function tarGz(
  files: Record<string, string>,
): Promise<{ bytes: Buffer; sha256: string; sha512: string; sha1: string }> {
  const dir = await tmpDir('tgz-');
  const root = join(dir, 'root');
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  }
  const out = join(dir, 'out.tgz');
  const run = await runClient('tar', [
    '-czf',
    out,
    '-C',
    root,
    '--owner=0',
    '--group=0',
    '--mtime=2024-01-01',
    ...Object.keys(files),
  ]);
  if (run.code !== 0) throw new Error(`tar failed: ${run.stderr}`);
  const bytes = await readFile(out);
  const digest = (alg: string) => createHash(alg).update(bytes).digest();
  return {
    bytes,
    sha256: digest('sha256').toString('hex'),
    sha512: digest('sha512').toString('base64'),
    sha1: digest('sha1').toString('hex'),
  };
}

/** A helm chart archive (`{name}/Chart.yaml`). */
export function helmChart(name: string, version: string) {
  return tarGz({ [`${name}/Chart.yaml`]: `apiVersion: v2\nname: ${name}\nversion: ${version}\n` });
}

/** An npm package tarball (`package/package.json`, `package/index.js`). */
export function npmTarball(manifest: { name: string; version: string; [k: string]: unknown }) {
  return tarGz({
    'package/package.json': JSON.stringify(manifest),
    'package/index.js': `module.exports = ${JSON.stringify(`${manifest.name}@${manifest.version}`)};\n`,
  });
}
