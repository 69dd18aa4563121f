/**
 * Standalone loading: ORCHARD_CONFIG names a file or a directory of
 * `*.yaml`/`*.yml` files (name order; a later document wins on a name
 * conflict). Documents are custom resources, v1 Secrets, or the seed's
 * remotes.yaml format (followed through `config_dir`).
 */
import { createHash } from 'node:crypto';
import { readFile, realpath } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { buildConfig, type InputDocument } from './normalize.ts';
import { convertSeedDocument, isSeedDocument } from './seed.ts';
import { ConfigError, type ConfigIssue, type OrchardConfig } from './types.ts';
import { listConfigFiles, parseYamlFile } from './yaml-files.ts';

export interface LoadOptions {
  /** Directory of the CRDs whose schemas validate the documents (default: the repository's crds/). */
  crdDir?: string;
}

/** Everything read for one load attempt, valid or not. */
export interface ReadResult {
  config?: OrchardConfig;
  error?: ConfigError;
  /** sha256 over every file name and content read: equal fingerprints mean nothing changed on disk. */
  fingerprint: string;
  /** Directories whose entries can change the result (the config dir, config_dir targets, files' parents). */
  watchDirs: string[];
}

/** Load and validate; throws ConfigError (with every issue) when anything is invalid. */
export async function loadConfig(path: string, opts: LoadOptions = {}): Promise<OrchardConfig> {
  const r = await readConfig(path, opts);
  if (r.error) throw r.error;
  return r.config!;
}

/** Like loadConfig, but returns the failure along with what the watcher needs. Never throws. */
export async function readConfig(path: string, opts: LoadOptions = {}): Promise<ReadResult> {
  const g = await gather(path);
  const fingerprint = createHash('sha256');
  for (const f of g.files) fingerprint.update(`${f.file}\0${f.text}\0`);
  const base = { fingerprint: fingerprint.digest('hex'), watchDirs: [...g.watchDirs] };
  try {
    const built = buildConfig(g.docs, {
      crdDir: opts.crdDir,
      duplicates: 'later-wins',
      sources: g.files.map((f) => f.file),
      warnings: g.warnings,
    });
    const issues = [...g.issues, ...built.documentIssues, ...[...built.rejected.values()].flat()];
    if (issues.length) return { ...base, error: new ConfigError(sortIssues(issues)) };
    return { ...base, config: built.config };
  } catch (err) {
    // Unreadable or broken CRDs: report as a config failure rather than crash the watcher.
    const issue = { file: opts.crdDir ?? 'crds/', document: 0, path: '', rule: 'crds', message: String(err) };
    return { ...base, error: new ConfigError([issue]) };
  }
}

interface Gathered {
  files: { file: string; text: string }[];
  docs: InputDocument[];
  issues: ConfigIssue[];
  warnings: ConfigIssue[];
  watchDirs: Set<string>;
}

async function gather(path: string): Promise<Gathered> {
  const g: Gathered = { files: [], docs: [], issues: [], warnings: [], watchDirs: new Set() };
  const seen = new Set<string>();

  const loadPath = async (p: string, depth: number): Promise<void> => {
    let files: string[];
    try {
      files = await listConfigFiles(p);
    } catch (err) {
      g.issues.push({ file: p, document: 0, path: '', rule: 'config-path', message: errorText(err) });
      return;
    }
    g.watchDirs.add(files.length === 1 && files[0] === p ? dirname(resolve(p)) : resolve(p));
    for (const file of files) await loadFile(file, depth);
  };

  const loadFile = async (file: string, depth: number): Promise<void> => {
    const real = await realpath(file).catch(() => file);
    if (seen.has(real)) return;
    seen.add(real);
    g.watchDirs.add(dirname(resolve(file)));
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      g.issues.push({ file, document: 0, path: '', rule: 'config-path', message: errorText(err) });
      return;
    }
    g.files.push({ file, text });
    for (const yd of parseYamlFile(file, text)) {
      if (yd.errors.length) {
        g.issues.push(...yd.errors);
        continue;
      }
      if (!isSeedDocument(yd.object)) {
        g.issues.push(...yd.badEscapes);
        g.docs.push({
          file,
          index: yd.index,
          object: yd.object,
          locate: (p) => ({ path: p, line: yd.lineOf(p) }),
        });
        continue;
      }
      g.warnings.push(
        ...yd.badEscapes.map((i) => ({ ...i, message: `${i.message}; kept verbatim (seed remotes.yaml)` })),
      );
      const conv = convertSeedDocument(file, yd.index, yd.object, yd.lineOf);
      g.docs.push(...conv.docs);
      g.issues.push(...conv.issues);
      g.warnings.push(...conv.warnings);
      if (conv.configDir !== undefined) {
        if (depth >= 8) {
          const message = 'config_dir nested more than 8 deep';
          g.issues.push({ file, document: yd.index, path: '/config_dir', rule: 'seed-config-dir', message });
        } else {
          await loadPath(resolve(dirname(file), conv.configDir), depth + 1);
        }
      }
    }
  };

  await loadPath(path, 0);
  return g;
}

function sortIssues(issues: ConfigIssue[]): ConfigIssue[] {
  return issues
    .map((issue, i) => ({ issue, i }))
    .sort(
      (a, b) => a.issue.file.localeCompare(b.issue.file) || a.issue.document - b.issue.document || a.i - b.i,
    )
    .map(({ issue }) => issue);
}

function errorText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code === 'ENOENT' ? 'no such file or directory' : e.message;
}
