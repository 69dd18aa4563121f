/** Manifest media types Orchard negotiates and validates (OCI image-spec, Docker image manifest v2). */
export const mediaTypes = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  /** Legacy signed schema 1; accepted from upstreams, never validated on push. */
  dockerManifestV1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
} as const;

/** Manifests that point at other manifests (`manifests[]`). */
export const indexTypes: readonly string[] = [mediaTypes.ociIndex, mediaTypes.dockerManifestList];
/** Manifests that point at a config and layers. */
export const imageTypes: readonly string[] = [mediaTypes.ociManifest, mediaTypes.dockerManifest];

/**
 * The Accept header Orchard sends upstream for every manifest request, so the
 * upstream never down-converts or refuses (distribution answers 404 for an
 * OCI manifest when OCI types are not accepted) and the cached copy serves
 * every client. Order is preference order.
 */
export const upstreamManifestAccept = [
  mediaTypes.ociIndex,
  mediaTypes.dockerManifestList,
  mediaTypes.ociManifest,
  mediaTypes.dockerManifest,
  mediaTypes.dockerManifestV1Signed,
].join(', ');

/** The media type without parameters, lower case (`application/json; charset=utf-8` → `application/json`). */
export function baseMediaType(value: string | undefined): string | undefined {
  const v = value?.split(';')[0]?.trim().toLowerCase();
  return v ? v : undefined;
}
