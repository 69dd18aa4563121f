import type { RemoteConfig } from '../../proxy/src/config/index.ts';
import {
  type ArtifactHint,
  type BuiltinClass,
  type Format,
  joinUrl,
  type RewriteInput,
  type RewriteOutput,
} from '../../proxy/src/formats/index.ts';

/**
 * A small index format standing in for npm/PyPI/helm in engine tests:
 * `{pkg}/index.json` is `{"files":[{"name","sha256","published"}]}`. At fill
 * time each file gets a `url` back through the proxy, quarantined files are
 * dropped, and every file becomes an ArtifactHint (digest + publish date).
 * A `.tgz` names its directory's index as its hint source; every upstream
 * request carries `x-test-index: 1`.
 */
export const testIndexFormat: Format = {
  name: 'test-index',
  classify(path: string): BuiltinClass | undefined {
    return path.endsWith('/index.json') ? 'mutable-builtin' : undefined;
  },
  upstreamUrl(remote: RemoteConfig, path: string): string {
    return joinUrl(remote.baseUrl!, path);
  },
  upstreamHeaders(): Record<string, string> {
    return { 'x-test-index': '1' };
  },
  hintSource(path: string): string | undefined {
    return path.endsWith('.tgz') ? `${path.slice(0, path.lastIndexOf('/') + 1)}index.json` : undefined;
  },
  indexHandler(path: string) {
    if (!path.endsWith('/index.json')) return undefined;
    return { maxBytes: 64 * 1024, rewrite: rewriteIndex };
  },
};

interface IndexFile {
  name: string;
  sha256: string;
  published: string;
  url?: string;
}

async function rewriteIndex(input: RewriteInput): Promise<RewriteOutput> {
  const doc = JSON.parse(input.body.toString('utf8')) as { files: IndexFile[] };
  if (!Array.isArray(doc.files)) throw new Error('files is not a list');
  const dir = input.path.slice(0, input.path.lastIndexOf('/') + 1);
  const hints: ArtifactHint[] = [];
  const files: IndexFile[] = [];
  for (const f of doc.files) {
    const path = `${dir}${f.name}`;
    const publishedAt = new Date(f.published);
    hints.push({ path, digest: { algorithm: 'sha256', hex: f.sha256 }, publishedAt });
    if (input.isQuarantined?.(path, publishedAt)) continue;
    files.push({ ...f, url: `${input.proxyBase}/${path}` });
  }
  return { body: Buffer.from(JSON.stringify({ files })), contentType: 'application/json', hints };
}
