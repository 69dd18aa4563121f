import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

/**
 * Build OCI image layouts (image-spec `image-layout.md`) by hand: real tar
 * layers (so containerd can unpack them), configs with the right `diff_ids`,
 * manifests, and multi-arch indexes, each tagged in `index.json`. skopeo
 * copies them into a registry (`oci:DIR:tag`).
 */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { architecture: string; os: string };
  annotations?: Record<string, string>;
}

export interface BuiltImage {
  tag: string;
  manifest: Descriptor;
  config: Descriptor;
  layers: Descriptor[];
}

export interface BuiltIndex {
  tag: string;
  index: Descriptor;
  images: BuiltImage[];
}

export const mt = {
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  index: 'application/vnd.oci.image.index.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
};

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A ustar archive of regular files (enough for containerd's unpacker). */
export function tarOf(files: { name: string; content: Buffer | string }[]): Buffer {
  const blocks: Buffer[] = [];
  for (const f of files) {
    const content = Buffer.from(f.content);
    const h = Buffer.alloc(512);
    h.write(f.name, 0, 100, 'utf8');
    h.write('0000644\0', 100);
    h.write('0000000\0', 108);
    h.write('0000000\0', 116);
    h.write(`${content.length.toString(8).padStart(11, '0')}\0`, 124);
    h.write(`${(1_700_000_000).toString(8).padStart(11, '0')}\0`, 136);
    h.write('        ', 148);
    h.write('0', 156);
    h.write('ustar\0', 257);
    h.write('00', 263);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    blocks.push(h, content, Buffer.alloc((512 - (content.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

export class OciLayout {
  readonly dir: string;
  private readonly refs: Descriptor[] = [];

  private constructor(dir: string) {
    this.dir = dir;
  }

  static async create(dir: string): Promise<OciLayout> {
    await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
    await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    const layout = new OciLayout(dir);
    await layout.writeIndex();
    return layout;
  }

  /** Store bytes as a blob; returns `sha256:…` and size. */
  async blob(data: Buffer, mediaType: string): Promise<Descriptor> {
    const hex = sha256(data);
    await writeFile(join(this.dir, 'blobs', 'sha256', hex), data);
    return { mediaType, digest: `sha256:${hex}`, size: data.length };
  }

  async readBlob(digest: string): Promise<Buffer> {
    return readFile(join(this.dir, 'blobs', 'sha256', digest.replace(/^sha256:/, '')));
  }

  /** One image: a gzip tar layer per entry of `layers` (files), tagged `tag` unless `untagged`. */
  async image(opts: {
    tag: string;
    layers: { name: string; content: Buffer | string }[][];
    architecture?: string;
    untagged?: boolean;
  }): Promise<BuiltImage> {
    const arch = opts.architecture ?? 'amd64';
    const layers: Descriptor[] = [];
    const diffIds: string[] = [];
    for (const files of opts.layers) {
      const tar = tarOf(files);
      diffIds.push(`sha256:${sha256(tar)}`);
      layers.push(await this.blob(gzipSync(tar), mt.layerGzip));
    }
    const config = await this.blob(
      Buffer.from(
        JSON.stringify({
          architecture: arch,
          os: 'linux',
          config: { Cmd: ['/bin/true'] },
          rootfs: { type: 'layers', diff_ids: diffIds },
        }),
      ),
      mt.config,
    );
    const manifest = await this.blob(
      Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: mt.manifest, config, layers })),
      mt.manifest,
    );
    const platform = { architecture: arch, os: 'linux' };
    if (!opts.untagged) await this.tag(opts.tag, manifest);
    return { tag: opts.tag, manifest: { ...manifest, platform }, config, layers };
  }

  /** A multi-arch index over one image per architecture. */
  async index(opts: {
    tag: string;
    architectures: string[];
    files: (arch: string) => { name: string; content: string }[][];
  }): Promise<BuiltIndex> {
    const images: BuiltImage[] = [];
    for (const arch of opts.architectures) {
      images.push(
        await this.image({
          tag: `${opts.tag}-${arch}`,
          layers: opts.files(arch),
          architecture: arch,
          untagged: true,
        }),
      );
    }
    const index = await this.blob(
      Buffer.from(
        JSON.stringify({ schemaVersion: 2, mediaType: mt.index, manifests: images.map((i) => i.manifest) }),
      ),
      mt.index,
    );
    await this.tag(opts.tag, index);
    return { tag: opts.tag, index, images };
  }

  private async tag(tag: string, d: Descriptor): Promise<void> {
    this.refs.push({
      mediaType: d.mediaType,
      digest: d.digest,
      size: d.size,
      annotations: { 'org.opencontainers.image.ref.name': tag },
    });
    await this.writeIndex();
  }

  private async writeIndex(): Promise<void> {
    await writeFile(join(this.dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: this.refs }));
  }
}
