// The registry's figures (issue 6), Orchard against Debian's docker-registry
// (distribution 2.8) configured as a pull-through cache (`proxy.remoteurl`)
// of the same upstream, measured in the same run:
// 1. cold blob throughput, one 256 MiB layer (target ratio ≥ 1.0);
// 2. warm blob throughput, same layer (≥ 1.0);
// 3. upstream GETs of that layer for 8 concurrent cold pulls (target exactly 1).
// Every server is its own process (Orchard runs `node proxy/src/main.ts` with
// its embedded backends); each cold figure uses fresh caches of both.
// Throughputs come from ORCHARD_BENCH_REGISTRY_RUNS (default 3) paired rounds
// (fresh caches of both, back to back; the round with the median ratio is
// reported), each after a 4 MiB warm-up blob so both servers are warm.
// ORCHARD_BENCH_REGISTRY_SIZE_MB (default 256) sets the layer size.
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import { freePort, tmpDir } from '../harness/index.ts';
import { type CountingProxy, startCountingProxy } from '../registry/lib/counting-proxy.ts';
import { type DockerRegistry, startDockerRegistry } from '../registry/lib/docker-registry.ts';
import { pseudoRandom, pushBlobStream, pushManifest } from '../registry/lib/push.ts';
import type { BenchContext, BenchModule, BenchResult } from './types.ts';

const MiB = 1024 * 1024;
const size = Number(process.env.ORCHARD_BENCH_REGISTRY_SIZE_MB ?? 256) * MiB;
const runs = Number(process.env.ORCHARD_BENCH_REGISTRY_RUNS ?? 3);
const root = new URL('../../', import.meta.url).pathname;
const repo = 'bench/layer';

interface Cache {
  /** URL of a blob of the bench repository on this cache. */
  blobUrl(digest: string): string;
  stop(): Promise<void>;
}

/** A fresh Orchard process whose docker remote `up` pulls through `upstream`. */
async function startOrchard(upstream: string): Promise<Cache> {
  const dir = await tmpDir('bench-registry-');
  const config = join(dir, 'config');
  await mkdir(config, { recursive: true });
  await writeFile(
    join(config, 'remote.yaml'),
    `apiVersion: orchard.dev/v1alpha1\nkind: Remote\nmetadata: { name: up }\nspec: { type: remote, package: docker, baseUrl: "${upstream}" }\n`,
  );
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ORCHARD_CONFIG: config,
    ORCHARD_DATA_DIR: join(dir, 'data'),
    ORCHARD_SERVER_HOST: '127.0.0.1',
    ORCHARD_SERVER_PORT: String(port),
    ORCHARD_LOG_LEVEL: 'warn',
  };
  for (const k of Object.keys(env)) if (/^ORCHARD_(DATABASE|S3|REDIS)_/.test(k)) delete env[k];
  const child = spawn(process.execPath, ['proxy/src/main.ts'], {
    cwd: root,
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error('orchard exited before it was ready');
    const ok = await fetch(`${url}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (i > 600) throw new Error('orchard did not become ready');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    blobUrl: (digest) => `${url}/v2/up/${repo}/blobs/${digest}`,
    stop: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** A fresh distribution pull-through cache of `upstream`. */
async function startDistributionCache(upstream: string): Promise<Cache> {
  const reg: DockerRegistry = await startDockerRegistry({ proxyRemoteUrl: upstream });
  return { blobUrl: (digest) => `${reg.url}/v2/${repo}/blobs/${digest}`, stop: () => reg.stop() };
}

/** GET the blob, discard it; MiB/s. */
async function download(url: string, expected = size): Promise<number> {
  const t0 = performance.now();
  const res = await request(url);
  let bytes = 0;
  for await (const c of res.body) bytes += (c as Buffer).length;
  if (res.statusCode !== 200 || bytes !== expected)
    throw new Error(`${url}: ${res.statusCode}, ${bytes} bytes`);
  return bytes / MiB / ((performance.now() - t0) / 1000);
}

interface Side {
  name: string;
  counting: CountingProxy;
  start(upstream: string): Promise<Cache>;
}

interface Layers {
  digest: string;
  /** A small blob each cache fetches (cold, then warm) before measuring: a long-running server is warm. */
  warmup: string;
}

const warmupSize = 4 * MiB;

async function warmUp(cache: Cache, layers: Layers): Promise<void> {
  await download(cache.blobUrl(layers.warmup), warmupSize);
  await new Promise((r) => setTimeout(r, 200));
  await download(cache.blobUrl(layers.warmup), warmupSize);
}

/** One cache's cold and warm throughput for the layer, after the warm-up blob. */
async function measure(
  side: Side,
  upstream: string,
  layers: Layers,
): Promise<{ cold: number; warm: number }> {
  const cache = await side.start(upstream);
  try {
    await warmUp(cache, layers);
    const url = cache.blobUrl(layers.digest);
    const cold = await download(url);
    // Let the cache finish committing what it streamed before measuring hits.
    await new Promise((r) => setTimeout(r, 500));
    const warm = Math.max(await download(url), await download(url));
    return { cold, warm };
  } finally {
    await cache.stop();
  }
}

interface Pair {
  orchard: number;
  distribution: number;
}

/**
 * Paired rounds on a shared, noisy machine: each round measures fresh caches
 * of both, back to back (the order alternating), straight from the upstream;
 * the round with the median ratio is reported, for cold and warm separately.
 */
async function pairedRounds(sides: Side[], upstream: string, layers: Layers, log: BenchContext['log']) {
  const cold: Pair[] = [];
  const warm: Pair[] = [];
  for (let round = 1; round <= runs; round++) {
    const order = round % 2 === 1 ? sides : [...sides].reverse();
    const got = new Map<string, { cold: number; warm: number }>();
    for (const side of order) got.set(side.name, await measure(side, upstream, layers));
    const o = got.get('orchard')!;
    const d = got.get('distribution')!;
    cold.push({ orchard: o.cold, distribution: d.cold });
    warm.push({ orchard: o.warm, distribution: d.warm });
    const f = (v: number) => v.toFixed(0);
    log(
      `round ${round}: cold ${f(o.cold)} vs ${f(d.cold)} (${(o.cold / d.cold).toFixed(2)}), warm ${f(o.warm)} vs ${f(d.warm)} (${(o.warm / d.warm).toFixed(2)}) MiB/s`,
    );
  }
  return { cold: medianPair(cold), warm: medianPair(warm) };
}

function medianPair(pairs: Pair[]): Pair {
  const sorted = [...pairs].sort((a, b) => a.orchard / a.distribution - b.orchard / b.distribution);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

/** Upstream GETs of the layer while 8 clients pull it cold at once, counted by a proxy in front of the upstream. */
async function concurrentColdGets(side: Side, digest: string): Promise<number> {
  const cache = await side.start(side.counting.url);
  try {
    const before = side.counting.count('GET', new RegExp(`/blobs/${digest}$`));
    await Promise.all(Array.from({ length: 8 }, () => download(cache.blobUrl(digest))));
    return side.counting.count('GET', new RegExp(`/blobs/${digest}$`)) - before;
  } finally {
    await cache.stop();
  }
}

const bench: BenchModule = async ({ log }) => {
  const upstream = await startDockerRegistry();
  const sides: Side[] = [
    { name: 'orchard', counting: await startCountingProxy(upstream.url), start: startOrchard },
    { name: 'distribution', counting: await startCountingProxy(upstream.url), start: startDistributionCache },
  ];
  try {
    log(`pushing a ${size / MiB} MiB layer to the upstream`);
    const digest = await pushBlobStream(upstream.url, repo, size, () => pseudoRandom(size, 42));
    const warmup = await pushBlobStream(upstream.url, repo, warmupSize, () => pseudoRandom(warmupSize, 43));
    await pushManifest(upstream.url, repo, 'v1', [
      { digest, size },
      { digest: warmup, size: warmupSize },
    ]);
    const { cold, warm } = await pairedRounds(sides, upstream.url, { digest, warmup }, log);
    const [orchardGets, distributionGets] = [
      await concurrentColdGets(sides[0]!, digest),
      await concurrentColdGets(sides[1]!, digest),
    ];
    const mb = `${size / MiB} MiB`;
    const results: BenchResult[] = [
      {
        name: `cold blob throughput (${mb})`,
        unit: 'MiB/s',
        value: cold.orchard,
        baseline: { name: 'distribution pull-through', value: cold.distribution },
        target: 1.0,
      },
      {
        name: `warm blob throughput (${mb})`,
        unit: 'MiB/s',
        value: warm.orchard,
        baseline: { name: 'distribution pull-through', value: warm.distribution },
        target: 1.0,
      },
      {
        name: 'upstream GETs for 8 concurrent cold pulls',
        unit: 'GETs',
        value: orchardGets,
        baseline: { name: 'distribution pull-through', value: distributionGets },
        target: 1,
        targetKind: 'exact',
      },
    ];
    return results;
  } finally {
    for (const s of sides) await s.counting.close();
    await upstream.stop();
  }
};

export default bench;
