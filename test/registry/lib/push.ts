import { createCipheriv, createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { request } from 'undici';

/**
 * Push one blob to a registry with a monolithic POST + PUT, streaming the
 * bytes from `chunks()` (so 256 MiB layers never sit in memory). Used to
 * seed upstreams with layers too big to build as OCI layouts quickly.
 */
export async function pushBlobStream(
  registry: string,
  name: string,
  size: number,
  chunks: () => AsyncIterable<Buffer>,
): Promise<string> {
  const hash = createHash('sha256');
  for await (const c of chunks()) hash.update(c);
  const digest = `sha256:${hash.digest('hex')}`;
  const start = await request(`${registry}/v2/${name}/blobs/uploads/`, { method: 'POST' });
  await start.body.dump();
  if (start.statusCode !== 202) throw new Error(`POST upload: ${start.statusCode}`);
  const location = new URL(String(start.headers.location), registry);
  location.searchParams.set('digest', digest);
  const put = await request(location, {
    method: 'PUT',
    body: Readable.from(chunks()),
    headers: { 'content-length': String(size), 'content-type': 'application/octet-stream' },
  });
  const text = await put.body.text();
  if (put.statusCode !== 201) throw new Error(`PUT upload: ${put.statusCode} ${text}`);
  return digest;
}

/** Deterministic pseudo-random bytes in 1 MiB chunks (AES-CTR keystream: incompressible, reproducible, fast). */
export async function* pseudoRandom(size: number, seed = 1): AsyncGenerator<Buffer> {
  const key = createHash('sha256').update(`seed:${seed}`).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  const block = 1024 * 1024;
  for (let off = 0; off < size; off += block) yield cipher.update(Buffer.alloc(Math.min(block, size - off)));
}

/** PUT an image manifest with one config and the given layer descriptors; returns its digest. */
export async function pushManifest(
  registry: string,
  name: string,
  tag: string,
  layers: { digest: string; size: number }[],
): Promise<string> {
  const config = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }),
  );
  const configDigest = `sha256:${createHash('sha256').update(config).digest('hex')}`;
  await pushBlobStream(registry, name, config.length, async function* () {
    yield config;
  });
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: configDigest,
        size: config.length,
      },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...l })),
    }),
  );
  const res = await request(`${registry}/v2/${name}/manifests/${tag}`, {
    method: 'PUT',
    body: manifest,
    headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
  });
  await res.body.dump();
  if (res.statusCode !== 201) throw new Error(`PUT manifest: ${res.statusCode}`);
  return `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
}
