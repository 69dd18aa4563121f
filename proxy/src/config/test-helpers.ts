import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { expect } from 'vitest';
import { loadConfig } from './load.ts';
import { ConfigError, type ConfigIssue } from './types.ts';

export const testdata: string = new URL('./testdata/', import.meta.url).pathname;
export const samplesDir: string = new URL('../../../config/samples/', import.meta.url).pathname;

/** A temporary directory with the given files; remove it with `cleanup`. */
export async function tempConfig(
  files: Record<string, string>,
): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'orchard-config-'));
  for (const [name, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** The issues loadConfig throws for `path`; fails the test when it loads. */
export async function loadIssues(path: string): Promise<ConfigIssue[]> {
  const err = await loadConfig(path).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  return [...(err as ConfigError).issues];
}

export const remoteYaml = (name: string, spec: string): string =>
  `apiVersion: orchard.dev/v1alpha1\nkind: Remote\nmetadata:\n  name: ${name}\nspec:\n${spec
    .trim()
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n')}\n`;
