import { createHash } from 'node:crypto';

/** A registry response with its body read. */
export interface Reply {
  status: number;
  headers: Headers;
  body: Buffer;
  json<T = unknown>(): T;
  /** The OCI error codes of an error envelope. */
  codes(): string[];
}

export function digestOf(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/**
 * Raw distribution-API requests, for the spec-coverage tests (the e2e tests
 * use skopeo and containerd instead). `base` is the registry origin.
 */
export class OciClient {
  readonly base: string;

  constructor(base: string) {
    this.base = base;
  }

  async req(
    method: string,
    path: string,
    opts: { body?: Buffer | string; headers?: Record<string, string> } = {},
  ): Promise<Reply> {
    const url = path.startsWith('http') ? path : `${this.base}${path}`;
    const res = await fetch(url, {
      method,
      headers: opts.headers,
      body: opts.body === undefined ? undefined : new Uint8Array(Buffer.from(opts.body)),
      redirect: 'manual',
    });
    const body = Buffer.from(await res.arrayBuffer());
    return {
      status: res.status,
      headers: res.headers,
      body,
      json: <T>() => JSON.parse(body.toString('utf8')) as T,
      codes: () => {
        try {
          return (JSON.parse(body.toString('utf8')) as { errors: { code: string }[] }).errors.map(
            (e) => e.code,
          );
        } catch {
          return [];
        }
      },
    };
  }

  /** Monolithic single-POST upload (end-4b). */
  async pushBlob(name: string, data: Buffer | string): Promise<string> {
    const digest = digestOf(data);
    const r = await this.req('POST', `/v2/${name}/blobs/uploads/?digest=${digest}`, {
      body: data,
      headers: { 'content-type': 'application/octet-stream' },
    });
    if (r.status !== 201) throw new Error(`push blob: ${r.status} ${r.body}`);
    return digest;
  }

  /** PUT a manifest (end-7); returns its digest. */
  async pushManifest(name: string, ref: string, manifest: unknown, mediaType: string): Promise<Reply> {
    return this.req('PUT', `/v2/${name}/manifests/${ref}`, {
      body: typeof manifest === 'string' ? manifest : JSON.stringify(manifest),
      headers: { 'content-type': mediaType },
    });
  }

  /** A small image: one config and the given layers, pushed, then its manifest under `tag`. */
  async pushImage(
    name: string,
    tag: string,
    layers: (Buffer | string)[],
    extra: Record<string, unknown> = {},
  ): Promise<{ digest: string; manifest: Record<string, unknown>; reply: Reply }> {
    const config = JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [] },
    });
    const configDigest = await this.pushBlob(name, config);
    const layerDescs = [];
    for (const l of layers) {
      layerDescs.push({
        mediaType: 'application/vnd.oci.image.layer.v1.tar',
        digest: await this.pushBlob(name, l),
        size: Buffer.byteLength(l),
      });
    }
    const manifest = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: configDigest,
        size: config.length,
      },
      layers: layerDescs,
      ...extra,
    };
    const reply = await this.pushManifest(name, tag, manifest, 'application/vnd.oci.image.manifest.v1+json');
    return { digest: digestOf(JSON.stringify(manifest)), manifest, reply };
  }
}
