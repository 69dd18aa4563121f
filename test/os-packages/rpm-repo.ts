import { copyFile, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runOk } from './run.ts';

// A real rpm-md repository built with the distributions' own tools: packages
// with `rpmbuild` (a spec with no sources), metadata with `createrepo_c`.

export interface RpmPackage {
  name: string;
  version: string;
}

/** The file name rpmbuild gives a noarch package of release 1. */
export function rpmFileName(p: RpmPackage): string {
  return `${p.name}-${p.version}-1.noarch.rpm`;
}

/** Build `p` under `work`; returns the path of the .rpm. */
export async function buildRpm(work: string, p: RpmPackage): Promise<string> {
  const top = join(work, 'rpmbuild');
  for (const d of ['SPECS', 'BUILD', 'RPMS', 'SOURCES', 'SRPMS', 'BUILDROOT'])
    await mkdir(join(top, d), { recursive: true });
  const spec = join(top, 'SPECS', `${p.name}-${p.version}.spec`);
  await writeFile(
    spec,
    [
      `Name: ${p.name}`,
      `Version: ${p.version}`,
      'Release: 1',
      `Summary: ${p.name} test package`,
      'License: MIT',
      'BuildArch: noarch',
      '%description',
      `${p.name} test package`,
      '%install',
      `mkdir -p %{buildroot}/usr/share/${p.name}`,
      `echo '${p.name} ${p.version}' > %{buildroot}/usr/share/${p.name}/README`,
      '%files',
      `/usr/share/${p.name}/README`,
      '',
    ].join('\n'),
  );
  await runOk('rpmbuild', ['--define', `_topdir ${top}`, '--quiet', '-bb', spec], { timeoutMs: 60_000 });
  return join(top, 'RPMS', 'noarch', rpmFileName(p));
}

/**
 * (Re)write the repository at `dir`: exactly `rpms` in `Packages/` and fresh
 * metadata by createrepo_c, content-named (`<sha256>-primary.xml.gz`, the
 * default) or with `simpleNames` (`primary.xml.gz`, as older tools publish),
 * gzip- (default) or xz-compressed.
 */
export async function writeRepo(
  dir: string,
  rpms: string[],
  o: { simpleNames?: boolean; compression?: 'gz' | 'xz' } = {},
): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, 'Packages'), { recursive: true });
  for (const rpm of rpms) await copyFile(rpm, join(dir, 'Packages', rpm.slice(rpm.lastIndexOf('/') + 1)));
  const args = [
    '--no-database',
    `--general-compress-type=${o.compression ?? 'gz'}`,
    ...(o.simpleNames ? ['--simple-md-filenames'] : []),
    dir,
  ];
  await runOk('createrepo_c', args, { timeoutMs: 60_000 });
}

/** The repodata file names of a repository (for assertions on what was fetched). */
export async function repodataFiles(dir: string): Promise<string[]> {
  return readdir(join(dir, 'repodata'));
}
