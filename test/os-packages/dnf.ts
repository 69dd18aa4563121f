import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpDir } from '../harness/index.ts';
import { type RunResult, run } from './run.ts';

/**
 * A throwaway dnf: its own config, repo files, install root, cache and
 * download directory, so `dnf install --downloadonly` resolves and downloads
 * from the given repositories only, as a build would, without touching the
 * machine's rpm database.
 */
export interface Dnf {
  downloads: string;
  /** `dnf install --downloadonly --destdir=<downloads> <packages>`. */
  download(packages: string[]): Promise<RunResult>;
}

export async function makeDnf(repos: { id: string; baseurl: string }[]): Promise<Dnf> {
  const dir = await tmpDir('dnf-');
  const downloads = join(dir, 'downloads');
  for (const d of ['repos', 'root', 'downloads']) await mkdir(join(dir, d), { recursive: true });
  const main = [
    '[main]',
    'gpgcheck=0',
    `reposdir=${dir}/repos`,
    `cachedir=${dir}/cache`,
    `logdir=${dir}/log`,
    `persistdir=${dir}/persist`,
    'install_weak_deps=0',
    'skip_if_unavailable=0',
    // retries=0 would mean "forever"; one retry keeps a failing download short.
    'retries=1',
    'timeout=20',
    'minrate=0',
    'fastestmirror=0',
    '',
  ];
  await writeFile(join(dir, 'dnf.conf'), main.join('\n'));
  const repoFile = repos
    .map((r) => `[${r.id}]\nname=${r.id}\nbaseurl=${r.baseurl}\ngpgcheck=0\nrepo_gpgcheck=0\nenabled=1\n`)
    .join('\n');
  await writeFile(join(dir, 'repos', 'orchard.repo'), repoFile);
  const base = [
    '-y',
    '-q',
    `--config=${dir}/dnf.conf`,
    `--setopt=reposdir=${dir}/repos`,
    `--installroot=${dir}/root`,
    '--releasever=1',
  ];
  return {
    downloads,
    download: (packages) =>
      run('dnf', [...base, 'install', '--downloadonly', `--destdir=${downloads}`, ...packages], {
        cwd: dir,
        env: { ...process.env, LANG: 'C', LC_ALL: 'C' },
        timeoutMs: 90_000,
      }),
  };
}
