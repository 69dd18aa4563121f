import type { FormatMetadata, MetadataExtractor } from '../extractor.ts';
import { ExtractError } from '../extractor.ts';
import { compact } from '../text.ts';
import { findInTar, probeWindow } from './tar-scan.ts';

/**
 * npm tarballs (`npm pack`): every member sits under one root directory
 * (`package/` for anything recent) and `<root>/package.json` describes it.
 * Undeclared `.tgz` files are probed within a window.
 */
export const npmExtractor: MetadataExtractor = {
  name: 'npm',
  claim: ({ filename, head, declaredFormat }) => {
    if (head[0] !== 0x1f || head[1] !== 0x8b) return 0;
    if (declaredFormat === 'npm') return 10;
    return filename.endsWith('.tgz') ? 5 : 0;
  },
  extract: async (source, ctx) => {
    let root: string | undefined;
    const hit = await findInTar(
      source,
      ctx,
      (entry) => {
        const [top, ...rest] = entry.path.split('/');
        root ??= top;
        if (top !== root) return 'stop';
        return rest.length === 1 && rest[0] === 'package.json' && entry.type === 'file' ? 'take' : 'skip';
      },
      ctx.declaredFormat === 'npm' ? undefined : probeWindow,
    );
    if (!hit) return undefined;
    return describe(hit.body);
  },
};

function describe(body: Buffer): FormatMetadata {
  let pkg: Record<string, unknown>;
  try {
    pkg = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new ExtractError(`package.json is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof pkg !== 'object' || pkg === null || typeof pkg.name !== 'string') {
    throw new ExtractError('package.json has no name');
  }
  return compact({
    package_name: pkg.name,
    version: asString(pkg.version),
    description: asString(pkg.description),
    license: asString(pkg.license),
    homepage: asString(pkg.homepage),
    dependencies: asRecord(pkg.dependencies),
    peer_dependencies: asRecord(pkg.peerDependencies),
    engines: asRecord(pkg.engines),
  });
}

function asString(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}
