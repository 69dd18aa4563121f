import { readAtMost } from '../upstream/body.ts';
import type { CachedObject } from './api.ts';

/**
 * A cached object's whole content, or `undefined` when it is larger than
 * `max` bytes: from memory, the body still streaming, or the stored blob
 * (opening it throws NotFoundError when the blob vanished). For small
 * documents (manifests, tag lists, index pages); the body is always consumed
 * or destroyed.
 */
export async function readObject(o: CachedObject, max: number): Promise<Buffer | undefined> {
  if (o.bytes) return o.bytes.length <= max ? o.bytes : undefined;
  if (o.size !== undefined && o.size > max) {
    o.body?.destroy();
    return undefined;
  }
  return readAtMost(o.body ?? (await o.open!()).body, max);
}
