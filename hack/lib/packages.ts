import { existsSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { run } from './proc.ts';

/**
 * A Debian package, present when all its `bins` are found and all its `files`
 * exist (for packages that ship a library rather than a command, such as a
 * Python module of the system interpreter); `for` says which suites use it.
 */
export interface Requirement {
  pkg: string;
  bins: string[];
  files?: string[];
  for: string;
}

/** The Debian packages the test suites need, in one table. */
export const REQUIRED_PACKAGES: readonly Requirement[] = [
  { pkg: 'postgresql', bins: ['initdb'], for: 'metadata database suites (PostgreSQL server)' },
  { pkg: 'redis-server', bins: ['redis-server'], for: 'coordinator suites (Redis server)' },
  { pkg: 'skopeo', bins: ['skopeo'], for: 'registry e2e (seeding and copying images)' },
  { pkg: 'containerd', bins: ['containerd', 'ctr'], for: 'containerd mirror e2e (ctr image pull)' },
  { pkg: 'docker-registry', bins: ['docker-registry'], for: 'registry e2e (OCI upstream)' },
  { pkg: 'dnf', bins: ['dnf'], for: 'rpm e2e (real dnf client)' },
  { pkg: 'createrepo-c', bins: ['createrepo_c'], for: 'rpm e2e (upstream repository metadata)' },
  { pkg: 'rpm', bins: ['rpmbuild'], for: 'rpm e2e and rpm metadata extraction' },
  { pkg: 'dpkg-dev', bins: ['dpkg-deb', 'dpkg-scanpackages'], for: 'deb e2e and deb metadata extraction' },
  { pkg: 'apt-utils', bins: ['apt-ftparchive'], for: 'deb e2e (Release files)' },
  {
    pkg: 'gnupg',
    bins: ['gpg', 'gpg-agent'],
    for: 'deb e2e (signing the test archive with a throwaway key)',
  },
  { pkg: 'xz-utils', bins: ['xz'], for: 'deb/rpm index hints and e2e (xz-compressed Packages)' },
  { pkg: 'zip', bins: ['zip'], for: 'jar/zip metadata extraction fixtures' },
  { pkg: 'unzip', bins: ['unzip'], for: 'jar/zip metadata extraction fixtures' },
  { pkg: 'lua5.4', bins: ['lua5.4'], for: 'ArgoCD health check test (docs/argocd/health.lua)' },
  { pkg: 'openssl', bins: ['openssl'], for: 'registry e2e (TLS certificates for the token-auth upstream)' },
  { pkg: 'curl', bins: ['curl'], for: 'seed README curl examples (test/api/seed-curl.test.ts)' },
  { pkg: 'openjdk-17-jdk-headless', bins: ['jar'], for: 'jar metadata extraction fixture' },
  // The wheel fixture is built by the system interpreter, offline: pip wheel --no-build-isolation.
  {
    pkg: 'python3-pip',
    bins: ['python3'],
    files: ['/usr/lib/python3/dist-packages/pip'],
    for: 'wheel metadata fixture (system pip)',
  },
  {
    pkg: 'python3-setuptools',
    bins: ['python3'],
    files: ['/usr/lib/python3/dist-packages/setuptools'],
    for: 'wheel metadata fixture (setup.py build)',
  },
  {
    pkg: 'python3-wheel',
    bins: ['python3'],
    files: ['/usr/lib/python3/dist-packages/wheel'],
    for: 'wheel metadata fixture (bdist_wheel)',
  },
];

/** Where the PostgreSQL server binaries live: ORCHARD_TEST_PG_BIN, else the newest /usr/lib/postgresql/N/bin. */
export function findPostgresBinDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.ORCHARD_TEST_PG_BIN) return env.ORCHARD_TEST_PG_BIN;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(root, versions[0], 'bin') : undefined;
}

/** The absolute path of an executable found on PATH (plus the sbin directories), or undefined. */
export function findBinary(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dirs = [...(env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const d of dirs) {
    if (d && existsSync(join(d, name))) return join(d, name);
  }
  return undefined;
}

function isPresent(entry: Requirement): boolean {
  if (entry.pkg === 'postgresql') return findPostgresBinDir() !== undefined;
  return (
    entry.bins.every((b) => findBinary(b) !== undefined) && (entry.files ?? []).every((f) => existsSync(f))
  );
}

export function missingPackages(table: readonly Requirement[] = REQUIRED_PACKAGES): string[] {
  return table.filter((e) => !isPresent(e)).map((e) => e.pkg);
}

export interface EnsureOptions {
  /** Default REQUIRED_PACKAGES. */
  packages?: readonly Requirement[];
  /** Whether apt-get may be run; default: running as root. */
  canInstall?: boolean;
}

/**
 * Makes sure every package in REQUIRED_PACKAGES is installed. As root, missing ones are
 * installed with apt-get (update once, then install; waits for a dpkg lock held by
 * another apt run). Not root: throws naming exactly what to install. Returns the
 * packages it installed.
 */
export async function ensurePackages(
  log: (msg: string) => void,
  opts: EnsureOptions = {},
): Promise<string[]> {
  const table = opts.packages ?? REQUIRED_PACKAGES;
  const missing = missingPackages(table);
  if (missing.length === 0) return [];
  const rows = table
    .filter((e) => missing.includes(e.pkg))
    .map((e) => `  ${e.pkg.padEnd(16)} ${e.for}`)
    .join('\n');
  if (!(opts.canInstall ?? process.getuid?.() === 0)) {
    throw new Error(
      `missing Debian packages:\n${rows}\ninstall them with:\n  sudo apt-get install -y --no-install-recommends ${missing.join(' ')}`,
    );
  }
  log(`installing missing Debian packages: ${missing.join(' ')}`);
  const started = Date.now();
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const lock = ['-o', 'DPkg::Lock::Timeout=600'];
  await run({ name: 'apt-get update', cmd: 'apt-get', args: [...lock, 'update'], env, timeoutMs: 600_000 });
  await run({
    name: 'apt-get install',
    cmd: 'apt-get',
    args: [...lock, 'install', '-y', '--no-install-recommends', ...missing],
    env,
    timeoutMs: 1_200_000,
  });
  const still = missingPackages(table);
  if (still.length)
    throw new Error(`apt-get install finished but these are still missing: ${still.join(' ')}`);
  log(`installed ${missing.length} packages in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return missing;
}
