import { type CachedObject, readObject } from '../../cache/index.ts';
import { baseMediaType, indexTypes } from '../../formats/docker/media-types.ts';
import { OciError } from '../errors.ts';

/**
 * The platform whose manifest a client that cannot take an index gets
 * (distribution's default, and what old Docker clients ran on).
 */
export const defaultPlatform = { os: 'linux', architecture: 'amd64' } as const;

/**
 * Whether a manifest requested by tag, stored as `contentType`, must be
 * replaced by one platform's manifest: it is an image index or manifest list,
 * and the client sent an `Accept` header that lists neither of those types nor
 * the `*\/*` wildcard. No `Accept` header means "anything", as it does for distribution.
 */
export function needsPlatformFallback(contentType: string | undefined, accept: string): boolean {
  const stored = baseMediaType(contentType);
  if (!stored || !indexTypes.includes(stored)) return false;
  if (!accept.trim()) return false;
  const accepted = accept.split(',').map((v) => baseMediaType(v));
  return !accepted.some((t) => t === '*/*' || (t !== undefined && indexTypes.includes(t)));
}

/**
 * The digest of the index entry for `defaultPlatform` (the first that
 * matches; a `variant` does not matter). Throws `MANIFEST_UNKNOWN` (404)
 * when the index is not JSON or has no such entry, naming `what`.
 */
export function platformDigest(index: Buffer, what: string): string {
  let manifests: unknown;
  try {
    manifests = (JSON.parse(index.toString('utf8')) as { manifests?: unknown }).manifests;
  } catch {
    throw new OciError('MANIFEST_UNKNOWN', `${what} is an index that is not JSON`);
  }
  const entries = Array.isArray(manifests) ? (manifests as unknown[]) : [];
  for (const e of entries) {
    const entry = e as { digest?: unknown; platform?: { os?: unknown; architecture?: unknown } };
    const p = entry?.platform;
    if (
      typeof entry?.digest === 'string' &&
      p?.os === defaultPlatform.os &&
      p?.architecture === defaultPlatform.architecture
    ) {
      return entry.digest;
    }
  }
  const platform = `${defaultPlatform.os}/${defaultPlatform.architecture}`;
  throw new OciError(
    'MANIFEST_UNKNOWN',
    `${what} is a multi-platform index with no ${platform} manifest, and the Accept header takes no index type`,
  );
}

/**
 * The whole body of a manifest, up to `max` bytes (else `MANIFEST_INVALID`,
 * 502 — the upstream's manifest is over the limit). Consumes or destroys a
 * streaming body; a stored one is opened, which throws NotFoundError when its
 * blob vanished.
 */
export async function readManifest(o: CachedObject, max: number): Promise<Buffer> {
  const whole = await readObject(o, max);
  if (!whole)
    throw new OciError('MANIFEST_INVALID', `the index is larger than ${max} bytes`, { status: 502 });
  return whole;
}
