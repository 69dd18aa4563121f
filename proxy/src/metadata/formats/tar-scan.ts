import { decompress, detectCompression } from '../decompress.ts';
import type { ArtifactSource, ExtractContext, ExtractLimits } from '../extractor.ts';
import { ExtractError } from '../extractor.ts';
import { readTar, type TarEntry } from '../tar.ts';

/** How far a probe of an undeclared tarball looks before deciding it is not its format. */
export const probeWindow: Partial<ExtractLimits> = { maxEntries: 1000, maxInflateBytes: 32 * 1024 * 1024 };

export type TarMatch = (entry: TarEntry, index: number) => 'take' | 'skip' | 'stop';

export interface TarHit {
  path: string;
  body: Buffer;
}

/**
 * Stream a (compressed) tar from the start of the artifact and return the
 * first member `match` takes; `undefined` when it says `stop` or the archive
 * ends. With `window`, the scan runs under a narrower budget and running out
 * of it also means `undefined` (this is a probe, not a verdict); corrupt
 * bytes still throw.
 */
export async function findInTar(
  source: ArtifactSource,
  ctx: ExtractContext,
  match: TarMatch,
  window?: Partial<ExtractLimits>,
): Promise<TarHit | undefined> {
  const budget = window && ctx.budget.scoped(window);
  const scope: ExtractContext = budget ? { ...ctx, limits: budget.effectiveLimits, budget } : ctx;
  try {
    const head = await source.read(0, 6);
    const stream = decompress(await source.open(0), detectCompression(head), scope);
    let index = 0;
    for await (const entry of readTar(stream, scope)) {
      const verdict = entry.safe ? match(entry, index++) : 'skip';
      if (verdict === 'stop') return undefined;
      if (verdict === 'take') return { path: entry.path, body: await entry.read() };
    }
    return undefined;
  } catch (err) {
    if (window && err instanceof ExtractError && err.kind === 'limit' && !ctx.signal.aborted)
      return undefined;
    throw err;
  }
}

/** True for gzip, zstd, xz or plain tar heads (`ustar` at offset 257). */
export function looksLikeTar(head: Buffer): boolean {
  if (detectCompression(head) !== 'none') return true;
  return head.length >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar';
}
