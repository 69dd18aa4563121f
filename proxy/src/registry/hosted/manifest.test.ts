import { describe, expect, it } from 'vitest';
import { parseManifest } from './manifest.ts';

const h = (c: string) => c.repeat(64);
const oci = 'application/vnd.oci.image.manifest.v1+json';
const image = (extra: Record<string, unknown> = {}) => ({
  schemaVersion: 2,
  mediaType: oci,
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${h('c')}`, size: 10 },
  layers: [
    { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${h('1')}`, size: 5 },
    {
      mediaType: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
      digest: `sha256:${h('2')}`,
      size: 7,
      urls: ['https://x/y'],
    },
  ],
  ...extra,
});
const buf = (o: unknown) => Buffer.from(JSON.stringify(o));

describe('parseManifest (image-spec manifest.md, image-index.md)', () => {
  it('lists the config and layers an image needs, skipping foreign layers', () => {
    const m = parseManifest(buf(image()), oci);
    expect(m.mediaType).toBe(oci);
    expect(m.refs).toEqual([
      { kind: 'blob', digest: h('c'), size: 10 },
      { kind: 'blob', digest: h('1'), size: 5 },
    ]);
    expect(m.artifactType).toBe('application/vnd.oci.image.config.v1+json');
  });

  it('lists the manifests an index needs', () => {
    const idx = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [{ mediaType: oci, digest: `sha256:${h('d')}`, size: 3 }],
    };
    expect(parseManifest(buf(idx), undefined).refs).toEqual([{ kind: 'manifest', digest: h('d'), size: 3 }]);
  });

  it('reads subject, artifactType and annotations for the referrers API', () => {
    const m = parseManifest(
      buf(
        image({
          artifactType: 'application/x-sig',
          subject: { mediaType: oci, digest: `sha256:${h('e')}`, size: 1 },
          annotations: { a: 'b' },
        }),
      ),
      oci,
    );
    expect([m.subject, m.artifactType, m.annotations]).toEqual([h('e'), 'application/x-sig', { a: 'b' }]);
  });

  it('takes the media type from the body when Content-Type is generic, and guesses old OCI pushes', () => {
    expect(parseManifest(buf(image()), 'application/json').mediaType).toBe(oci);
    const { mediaType: _, ...bare } = image();
    expect(parseManifest(buf(bare), undefined).mediaType).toBe(oci);
  });

  it.each([
    ['malformed JSON', Buffer.from('{'), oci],
    ['a JSON array', buf([]), oci],
    [
      'Content-Type and mediaType disagree',
      buf(image()),
      'application/vnd.docker.distribution.manifest.v2+json',
    ],
    ['schemaVersion 1', buf(image({ schemaVersion: 1 })), oci],
    ['no layers array', buf(image({ layers: 'x' })), oci],
    ['a bad digest', buf(image({ config: { digest: 'sha256:nothex', size: 1 } })), oci],
    ['a negative size', buf(image({ config: { digest: `sha256:${h('c')}`, size: -1 } })), oci],
    ['no media type at all', buf({ schemaVersion: 2 }), undefined],
  ])('rejects %s with MANIFEST_INVALID', (_what, body, type) => {
    expect(() => parseManifest(body, type)).toThrow(expect.objectContaining({ code: 'MANIFEST_INVALID' }));
  });
});
