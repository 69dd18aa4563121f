import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runOk } from './run.ts';

// A real Debian archive built with Debian's own tools: packages with
// `dpkg-deb --build`, indexes with `dpkg-scanpackages`, Release files with
// `apt-ftparchive release`, optionally with by-hash copies of the indexes
// (Acquire-By-Hash, as Debian and Ubuntu mirrors publish them).

export interface DebPackage {
  name: string;
  version: string;
}

/** The archive-relative path of a package's file in the pool. */
export function poolPath(p: DebPackage): string {
  return `pool/main/${p.name[0]}/${p.name}/${p.name}_${p.version}_all.deb`;
}

/** Build `p` into `root`'s pool; returns its bytes. */
export async function buildDeb(root: string, work: string, p: DebPackage): Promise<Buffer> {
  const tree = join(work, `${p.name}-${p.version}`);
  await rm(tree, { recursive: true, force: true });
  await mkdir(join(tree, 'DEBIAN'), { recursive: true });
  await mkdir(join(tree, 'usr/share/doc', p.name), { recursive: true });
  await writeFile(
    join(tree, 'DEBIAN/control'),
    `Package: ${p.name}\nVersion: ${p.version}\nArchitecture: all\nMaintainer: Orchard Tests <tests@example.invalid>\nDescription: ${p.name} test package\n`,
  );
  await writeFile(join(tree, 'usr/share/doc', p.name, 'README'), `${p.name} ${p.version}\n`);
  const out = join(root, poolPath(p));
  await mkdir(join(out, '..'), { recursive: true });
  await runOk('dpkg-deb', ['--build', '--root-owner-group', '-Zgzip', tree, out]);
  return readFile(out);
}

export interface SigningKey {
  /** GnuPG home holding the secret key. */
  homedir: string;
  /** The public key, exported (binary), for `[signed-by=…]`. */
  keyring: string;
}

/** A throwaway ed25519 signing key, as an archive's release key. */
export async function makeSigningKey(dir: string): Promise<SigningKey> {
  const homedir = join(dir, 'gnupg');
  await mkdir(homedir, { recursive: true, mode: 0o700 });
  const gpg = ['--batch', '--homedir', homedir];
  await runOk('gpg', [
    ...gpg,
    '--passphrase',
    '',
    '--quick-gen-key',
    'Orchard Tests <tests@example.invalid>',
    'ed25519',
    'sign',
    'never',
  ]);
  const keyring = join(dir, 'archive-key.gpg');
  await runOk('gpg', [...gpg, '--output', keyring, '--export']);
  return { homedir, keyring };
}

export interface SuiteOptions {
  suite: string;
  packages: DebPackage[];
  /** Publish `by-hash/SHA256/<hex>` copies and `Acquire-By-Hash: yes`. */
  byHash?: boolean;
  /** Sign: InRelease (clearsigned) and Release.gpg (detached), as real archives do. */
  key?: SigningKey;
}

/**
 * (Re)write `dists/<suite>/` of the archive at `root`: Packages (plain, .gz,
 * .xz) for binary-amd64 listing `packages` (already built), and a Release
 * over them. Returns the Release text.
 */
export async function writeSuite(root: string, o: SuiteOptions): Promise<string> {
  const dist = join(root, 'dists', o.suite);
  const bin = join(dist, 'main/binary-amd64');
  await rm(dist, { recursive: true, force: true });
  await mkdir(bin, { recursive: true });
  let packages = '';
  for (const p of o.packages) {
    const dir = poolPath(p).slice(0, poolPath(p).lastIndexOf('/'));
    const r = await runOk('dpkg-scanpackages', ['--arch', 'amd64', '--multiversion', dir], { cwd: root });
    packages += filterStanzas(r.stdout, p);
  }
  await writeFile(join(bin, 'Packages'), packages);
  await runOk('gzip', ['-9nk', join(bin, 'Packages')]);
  await runOk('xz', ['-k', join(bin, 'Packages')]);
  const fields = ['Suite', 'Codename'].flatMap((f) => ['-o', `APT::FTPArchive::Release::${f}=${o.suite}`]);
  const r = await runOk(
    'apt-ftparchive',
    [
      ...fields,
      // As Debian's archive: MD5Sum and SHA256 only, so apt asks for by-hash/SHA256/….
      '-o',
      'APT::FTPArchive::Release::SHA512=false',
      '-o',
      'APT::FTPArchive::Release::SHA1=false',
      '-o',
      'APT::FTPArchive::Release::Architectures=amd64',
      '-o',
      'APT::FTPArchive::Release::Components=main',
      'release',
      '.',
    ],
    { cwd: dist },
  );
  const release = o.byHash ? `Acquire-By-Hash: yes\n${r.stdout}` : r.stdout;
  await writeFile(join(dist, 'Release'), release);
  if (o.key) {
    const gpg = ['--batch', '--yes', '--homedir', o.key.homedir];
    await runOk('gpg', [...gpg, '--clearsign', '--output', join(dist, 'InRelease'), join(dist, 'Release')]);
    await runOk('gpg', [
      ...gpg,
      '--armor',
      '--detach-sign',
      '--output',
      join(dist, 'Release.gpg'),
      join(dist, 'Release'),
    ]);
  }
  if (o.byHash) {
    const byHash = join(bin, 'by-hash/SHA256');
    await mkdir(byHash, { recursive: true });
    for (const name of ['Packages', 'Packages.gz', 'Packages.xz']) {
      const hex = createHash('sha256')
        .update(await readFile(join(bin, name)))
        .digest('hex');
      await copyFile(join(bin, name), join(byHash, hex));
    }
  }
  return release;
}

/** The stanza of exactly this version (a pool directory may hold several). */
function filterStanzas(text: string, p: DebPackage): string {
  return text
    .split(/\n\n+/)
    .filter((s) => s.includes(`\nVersion: ${p.version}\n`))
    .map((s) => `${s.trim()}\n\n`)
    .join('');
}
