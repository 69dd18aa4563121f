import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runOk } from './run.ts';

// An Alpine repository directory as abuild and `apk index` lay it out (no apk
// tools here): each .apk is concatenated gzip streams (control segment with
// .PKGINFO, then data), and APKINDEX.tar.gz lists each package with
// `C:Q1<base64 SHA1 of its control segment>` — not a digest of the file.

export interface ApkPackage {
  name: string;
  version: string;
}

export function apkFileName(p: ApkPackage): string {
  return `${p.name}-${p.version}.apk`;
}

async function tarGz(dir: string, files: Record<string, string>): Promise<Buffer> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) {
    await mkdir(join(dir, name, '..'), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  const out = `${dir}.tar.gz`;
  await runOk('tar', ['--owner=0', '--group=0', '-czf', out, '-C', dir, ...Object.keys(files)]);
  return readFile(out);
}

/** Build the package; returns its bytes and its APKINDEX stanza. */
export async function buildApk(work: string, p: ApkPackage): Promise<{ apk: Buffer; stanza: string }> {
  const base = join(work, `${p.name}-${p.version}`);
  const pkginfo = `pkgname = ${p.name}\npkgver = ${p.version}\narch = x86_64\nsize = 16\npkgdesc = ${p.name} test package\nlicense = MIT\n`;
  const control = await tarGz(`${base}-control`, { '.PKGINFO': pkginfo });
  const data = await tarGz(`${base}-data`, { [`usr/share/${p.name}/README`]: `${p.name} ${p.version}\n` });
  const checksum = `Q1${createHash('sha1').update(control).digest('base64')}`;
  const apk = Buffer.concat([control, data]);
  const stanza = `C:${checksum}\nP:${p.name}\nV:${p.version}\nA:x86_64\nS:${apk.length}\nI:16\nT:${p.name} test package\nL:MIT\n\n`;
  return { apk, stanza };
}

/** APKINDEX.tar.gz over the given stanzas. */
export function buildApkIndex(work: string, stanzas: string[], description: string): Promise<Buffer> {
  return tarGz(join(work, `index-${description}`), {
    DESCRIPTION: `${description}\n`,
    APKINDEX: stanzas.join(''),
  });
}
