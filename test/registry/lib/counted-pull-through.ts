import { type CountingProxy, startCountingProxy } from './counting-proxy.ts';
import { type DockerRegistry, startDockerRegistry } from './docker-registry.ts';
import { dockerRemote, type Orchard, startOrchard } from './orchard.ts';
import { pseudoRandom, pushBlobStream, pushManifest } from './push.ts';

export interface CountedPullThrough {
  upstream: DockerRegistry;
  /** In front of the upstream: counts what Orchard asks it. */
  counting: CountingProxy;
  /** Remote `up` pulls through `counting`. */
  orchard: Orchard;
  /** `sha256:…` of the pushed layer and of the manifest (tag `v1`) naming it. */
  layer: string;
  manifest: string;
  close(): Promise<void>;
}

/**
 * The fixture of the coalescing suites: Debian's docker-registry holding one
 * image (`repo:v1`, one pseudo-random layer of `layerSize` bytes from
 * `seed`), a counting proxy in front of it (answering `holdMs` late), and an
 * Orchard whose docker remote `up` pulls through the proxy.
 */
export async function startCountedPullThrough(opts: {
  repo: string;
  layerSize: number;
  seed: number;
  holdMs?: number;
}): Promise<CountedPullThrough> {
  const upstream = await startDockerRegistry();
  const counting = await startCountingProxy(upstream.url, { holdMs: opts.holdMs });
  const layer = await pushBlobStream(upstream.url, opts.repo, opts.layerSize, () =>
    pseudoRandom(opts.layerSize, opts.seed),
  );
  const manifest = await pushManifest(upstream.url, opts.repo, 'v1', [
    { digest: layer, size: opts.layerSize },
  ]);
  const orchard = await startOrchard({
    config: dockerRemote('up', { type: 'remote', baseUrl: counting.url }),
  });
  return {
    upstream,
    counting,
    orchard,
    layer,
    manifest,
    close: async () => {
      await orchard.close();
      await counting.close();
      await upstream.stop();
    },
  };
}
