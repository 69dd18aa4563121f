import { baseMediaType, imageTypes, indexTypes, mediaTypes, sha256Of } from '../../formats/docker/index.ts';
import { OciError } from '../errors.ts';
import type { ManifestRef } from './store.ts';

/** A descriptor (image-spec `descriptor.md`) as far as the registry needs it. */
interface Descriptor {
  mediaType?: unknown;
  digest?: unknown;
  size?: unknown;
  urls?: unknown;
  artifactType?: unknown;
}

/** What a pushed manifest says about itself and what it references. */
export interface ParsedManifest {
  mediaType: string;
  artifactType?: string;
  /** sha256 hex of the `subject` manifest (referrers API), when it has one. */
  subject?: string;
  annotations?: Record<string, string>;
  /** Blobs (config, layers) and manifests (index children) that must exist in the repository. */
  refs: (ManifestRef & { size?: number })[];
}

/**
 * Parse and check a pushed manifest (distribution spec, "Pushing Manifests";
 * image-spec `manifest.md`, `image-index.md`):
 * - the body is a JSON object with `schemaVersion` 2;
 * - its media type comes from `Content-Type`, else from the body's
 *   `mediaType`; when both are present they must agree (MANIFEST_INVALID);
 * - image manifests name a config and layers, indexes name manifests, each a
 *   descriptor with a well-formed digest and a non-negative size.
 * Unknown media types are stored opaquely (other artifact formats) as long as
 * they are JSON. Foreign layers (with `urls`) need not exist locally.
 */
export function parseManifest(body: Buffer, contentType: string | undefined): ParsedManifest {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch {
    throw invalid('the manifest is not valid JSON');
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc))
    throw invalid('the manifest is not a JSON object');
  const declared = typeof doc.mediaType === 'string' ? doc.mediaType : undefined;
  const header = baseMediaType(contentType);
  const headerType =
    header && header !== 'application/json' && header !== 'application/octet-stream' ? header : undefined;
  if (declared && headerType && declared !== headerType) {
    throw invalid(`Content-Type ${headerType} does not match the manifest's mediaType ${declared}`);
  }
  const mediaType = headerType ?? declared ?? guessType(doc);
  if (!mediaType) throw invalid('the manifest has no media type (Content-Type or mediaType)');
  const parsed: ParsedManifest = { mediaType, refs: [] };
  if (imageTypes.includes(mediaType) || indexTypes.includes(mediaType)) {
    if (doc.schemaVersion !== 2) throw invalid('schemaVersion must be 2');
  }
  if (imageTypes.includes(mediaType)) readImage(doc, parsed);
  else if (indexTypes.includes(mediaType)) readIndex(doc, parsed);
  readSubject(doc, parsed);
  if (isStringMap(doc.annotations)) parsed.annotations = doc.annotations;
  return parsed;
}

function readImage(doc: Record<string, unknown>, out: ParsedManifest): void {
  const config = descriptor(doc.config, 'config');
  out.refs.push({ kind: 'blob', digest: config.hex, size: config.size });
  if (!Array.isArray(doc.layers)) throw invalid('layers must be an array');
  doc.layers.forEach((layer, i) => {
    const d = descriptor(layer, `layers[${i}]`);
    // Foreign (non-distributable) layers are fetched from their `urls`, not from this registry.
    if (Array.isArray((layer as Descriptor).urls) && ((layer as Descriptor).urls as unknown[]).length > 0)
      return;
    out.refs.push({ kind: 'blob', digest: d.hex, size: d.size });
  });
  const configType =
    typeof (doc.config as Descriptor).mediaType === 'string'
      ? ((doc.config as Descriptor).mediaType as string)
      : undefined;
  // image-spec: artifactType, else the config's media type unless it is the empty descriptor.
  if (typeof doc.artifactType === 'string') out.artifactType = doc.artifactType;
  else if (configType && configType !== mediaTypes.ociEmpty) out.artifactType = configType;
}

function readIndex(doc: Record<string, unknown>, out: ParsedManifest): void {
  if (!Array.isArray(doc.manifests)) throw invalid('manifests must be an array');
  doc.manifests.forEach((m, i) => {
    const d = descriptor(m, `manifests[${i}]`);
    out.refs.push({ kind: 'manifest', digest: d.hex, size: d.size });
  });
  if (typeof doc.artifactType === 'string') out.artifactType = doc.artifactType;
}

function readSubject(doc: Record<string, unknown>, out: ParsedManifest): void {
  if (doc.subject === undefined) return;
  // The subject need not exist (distribution spec, "Pushing Manifests with Subject").
  const d = descriptor(doc.subject, 'subject');
  out.subject = d.hex;
}

function descriptor(value: unknown, where: string): { hex: string; size: number } {
  if (!value || typeof value !== 'object') throw invalid(`${where} is not a descriptor`);
  const d = value as Descriptor;
  if (typeof d.digest !== 'string') throw invalid(`${where}.digest is missing`);
  const hex = sha256Of(d.digest);
  if (!hex) throw invalid(`${where}.digest is not a sha256 digest`, { digest: d.digest.slice(0, 160) });
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) {
    throw invalid(`${where}.size must be a non-negative integer`);
  }
  return { hex, size: d.size };
}

/** Older clients push OCI manifests without mediaType and with a JSON Content-Type. */
function guessType(doc: Record<string, unknown>): string | undefined {
  if (doc.schemaVersion !== 2) return undefined;
  if (Array.isArray(doc.manifests)) return mediaTypes.ociIndex;
  if (doc.config && Array.isArray(doc.layers)) return mediaTypes.ociManifest;
  return undefined;
}

function isStringMap(v: unknown): v is Record<string, string> {
  return (
    !!v && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string')
  );
}

function invalid(message: string, detail?: unknown): OciError {
  return new OciError('MANIFEST_INVALID', message, { detail });
}
