import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpDir } from '../harness/index.ts';
import { type RunResult, run } from './run.ts';

/**
 * A throwaway apt: its own config (APT_CONFIG, read before and instead of the
 * machine's apt.conf.d), sources list, state, cache and download directory,
 * so `apt-get update` and `apt-get download` run as any user would run them,
 * without root's package database, locks or the machine's apt settings.
 */
export interface Apt {
  dir: string;
  /** Where `download` saves .deb files. */
  downloads: string;
  get(args: string[]): Promise<RunResult>;
}

export async function makeApt(sources: string[]): Promise<Apt> {
  const dir = await tmpDir('apt-');
  const downloads = join(dir, 'downloads');
  for (const d of ['state/lists/partial', 'cache/archives/partial', 'parts', 'log', 'downloads'])
    await mkdir(join(dir, d), { recursive: true });
  await writeFile(join(dir, 'state/status'), '');
  await writeFile(join(dir, 'sources.list'), `${sources.join('\n')}\n`);
  const conf = [
    `Dir::Etc::main "/dev/null";`,
    `Dir::Etc::parts "${dir}/parts";`,
    `Dir::Etc::sourcelist "${dir}/sources.list";`,
    `Dir::Etc::sourceparts "${dir}/parts";`,
    `Dir::Etc::preferences "/dev/null";`,
    `Dir::Etc::preferencesparts "${dir}/parts";`,
    `Dir::State "${dir}/state";`,
    `Dir::State::status "${dir}/state/status";`,
    `Dir::Cache "${dir}/cache";`,
    `Dir::Log "${dir}/log";`,
    `Debug::NoLocking "1";`,
    `APT::Architecture "amd64";`,
    `APT::Architectures { "amd64"; };`,
    `APT::Sandbox::User "root";`,
    `Acquire::Languages "none";`,
    `Acquire::Retries "0";`,
    `Acquire::http::Timeout "20";`,
  ];
  await writeFile(join(dir, 'apt.conf'), `${conf.join('\n')}\n`);
  const env = { ...process.env, APT_CONFIG: join(dir, 'apt.conf'), LANG: 'C', LC_ALL: 'C' };
  return {
    dir,
    downloads,
    get: (args) => run('apt-get', ['-q', ...args], { env, cwd: downloads, timeoutMs: 60_000 }),
  };
}
