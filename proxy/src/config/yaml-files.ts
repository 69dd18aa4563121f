/**
 * Reading config files: which files a path names, and YAML parsing that keeps
 * enough position information to report a JSON path as a file line.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, type Node, parseAllDocuments } from 'yaml';
import type { ConfigIssue } from './types.ts';

/**
 * The files a config path names: the file itself, or every `*.yaml`/`*.yml`
 * regular file (symlinks followed) directly in the directory, sorted by name.
 * Names starting with `.` are skipped: a mounted ConfigMap keeps its real
 * files under `..data/` and `..<timestamp>/`, and links them from the top.
 */
export async function listConfigFiles(path: string): Promise<string[]> {
  const st = await stat(path);
  if (!st.isDirectory()) return [path];
  const names = (await readdir(path)).filter((n) => !n.startsWith('.') && /\.ya?ml$/.test(n)).sort();
  const out: string[] = [];
  for (const name of names) {
    const file = join(path, name);
    if ((await stat(file).catch(() => undefined))?.isFile()) out.push(file);
  }
  return out;
}

export interface YamlDocument {
  file: string;
  /** 1-based position in the file. */
  index: number;
  object: unknown;
  /** Line (1-based) of the node a JSON pointer names, or of its nearest existing ancestor. */
  lineOf(path: string): number | undefined;
  /** Syntax errors; the document is unusable when non-empty. */
  errors: ConfigIssue[];
  /**
   * Unknown escapes in double-quoted strings (`"\.tgz$"`). Strict YAML rejects
   * them; the seed's npm example has one, so seed files accept them verbatim.
   */
  badEscapes: ConfigIssue[];
}

export function parseYamlFile(file: string, text: string): YamlDocument[] {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const list = Array.isArray(docs) ? docs : [docs];
  return list.map((doc, i) => {
    const index = i + 1;
    const toIssue = (e: { code: string; message: string; pos: [number, number] }): ConfigIssue => ({
      file,
      document: index,
      line: lineCounter.linePos(e.pos[0]).line,
      path: '',
      rule: `yaml:${e.code}`,
      message: e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, ''),
    });
    const errors = doc.errors.filter((e) => e.code !== 'BAD_DQ_ESCAPE').map(toIssue);
    const badEscapes = doc.errors.filter((e) => e.code === 'BAD_DQ_ESCAPE').map(toIssue);
    let object: unknown;
    if (!errors.length) {
      try {
        object = doc.toJS({ maxAliasCount: 100 });
      } catch (err) {
        errors.push({
          file,
          document: index,
          path: '',
          rule: 'yaml:conversion',
          message: (err as Error).message,
        });
      }
    }
    const lineOf = (path: string): number | undefined => {
      const offset = offsetOf(doc.contents as Node | null, pointerSegments(path));
      return offset === undefined ? undefined : lineCounter.linePos(offset).line;
    };
    return { file, index, object, lineOf, errors, badEscapes };
  });
}

/** Start offset of the deepest node on the path (map keys point at the key, not the value). */
function offsetOf(root: Node | null, segments: string[]): number | undefined {
  let node: unknown = root;
  let offset = (root as Node | null)?.range?.[0];
  for (const seg of segments) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === seg);
      if (!pair) break;
      offset = (pair.key as Node | null)?.range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node)) {
      const item = node.items[Number(seg)] as Node | undefined;
      if (!item) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else {
      break;
    }
  }
  return offset;
}

export function pointerSegments(path: string): string[] {
  if (!path || path === '/') return [];
  return path
    .replace(/^\//, '')
    .split('/')
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
}
