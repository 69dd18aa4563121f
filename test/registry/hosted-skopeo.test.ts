import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tmpDir } from '../harness/index.ts';
import { OciLayout, sha256 } from './lib/oci-layout.ts';
import { dockerRemote, type Orchard, startOrchard } from './lib/orchard.ts';
import { skopeoCopy } from './lib/skopeo.ts';

/**
 * Push to a hosted docker repository (`type: local`) with skopeo, the way
 * users do, and pull it back byte-identical: a multi-layer image and a
 * multi-arch index.
 */
describe('hosted docker repository with skopeo', () => {
  let orchard: Orchard;
  let src: OciLayout;

  beforeAll(async () => {
    orchard = await startOrchard({ config: dockerRemote('hosted', { type: 'local' }) });
    src = await OciLayout.create(await tmpDir('oci-src-'));
  });
  afterAll(async () => {
    await orchard?.close();
  });

  it('pushes a multi-layer image and pulls it back identical', async () => {
    const img = await src.image({
      tag: 'v1',
      layers: [
        [{ name: 'a.txt', content: 'layer one\n' }],
        [{ name: 'b.txt', content: 'layer two\n'.repeat(5000) }],
      ],
    });
    await skopeoCopy(`oci:${src.dir}:v1`, `docker://${orchard.host}/hosted/team/app:v1`);
    const out = await tmpDir('oci-out-');
    await skopeoCopy(`docker://${orchard.host}/hosted/team/app:v1`, `oci:${out}:v1`);
    const index = JSON.parse(await readFile(join(out, 'index.json'), 'utf8'));
    expect(index.manifests[0].digest).toBe(img.manifest.digest);
    for (const d of [img.config, ...img.layers]) {
      const got = await readFile(join(out, 'blobs', 'sha256', d.digest.slice(7)));
      expect(`sha256:${sha256(got)}`).toBe(d.digest);
    }
  });

  it('pushes a multi-arch index with --all and pulls every platform back', async () => {
    const built = await src.index({
      tag: 'multi',
      architectures: ['amd64', 'arm64'],
      files: (arch) => [[{ name: `arch-${arch}.txt`, content: `built for ${arch}\n` }]],
    });
    await skopeoCopy(`oci:${src.dir}:multi`, `docker://${orchard.host}/hosted/multi:latest`, { all: true });
    const out = await tmpDir('oci-multi-');
    await skopeoCopy(`docker://${orchard.host}/hosted/multi:latest`, `oci:${out}:latest`, { all: true });
    const index = JSON.parse(await readFile(join(out, 'index.json'), 'utf8'));
    expect(index.manifests[0].digest).toBe(built.index.digest);
    for (const image of built.images) {
      const got = await readFile(join(out, 'blobs', 'sha256', image.manifest.digest.slice(7)));
      expect(`sha256:${sha256(got)}`).toBe(image.manifest.digest);
    }
  });
});
