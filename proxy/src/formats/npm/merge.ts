import type { MergeInput, RewriteOutput } from '../format.ts';
import { abbreviatedType, parseNpmPath } from './names.ts';
import { fullType, isObject, parseObject } from './packument.ts';

/**
 * Merge the (already rewritten) packuments of a virtual repository's members:
 * the first member that has the package gives the document; later members
 * only add versions (with their `time`) and dist-tags it lacks. Tarball URLs
 * stay those of the member that serves each version.
 */
export async function mergePackuments(input: MergeInput): Promise<RewriteOutput> {
  const p = parseNpmPath(input.path);
  // A version manifest is not merged: the first member that has it answers.
  if (p.kind === 'version' && input.members[0]) return { body: input.members[0].body, contentType: fullType };
  if (p.kind !== 'packument') throw new Error(`not a packument: ${input.path}`);
  let merged: Record<string, unknown> | undefined;
  for (const m of input.members) {
    const doc = parseObject(m.body);
    if (!merged) {
      merged = doc;
      continue;
    }
    mergeInto(merged, doc, 'versions');
    mergeInto(merged, doc, 'time');
    mergeInto(merged, doc, 'dist-tags');
  }
  const contentType = p.abbreviated ? abbreviatedType : fullType;
  return { body: Buffer.from(JSON.stringify(merged ?? {})), contentType };
}

function mergeInto(into: Record<string, unknown>, from: Record<string, unknown>, field: string): void {
  const src = from[field];
  if (!isObject(src)) return;
  const dst = isObject(into[field]) ? (into[field] as Record<string, unknown>) : {};
  for (const [k, v] of Object.entries(src)) if (!(k in dst)) dst[k] = v;
  into[field] = dst;
}
