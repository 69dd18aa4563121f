// The language formats' figures (issue 5), each against a baseline measured in
// the same run: warm-hit requests/s for a cached 1 MiB npm packument and a
// cached 1 MiB PyPI simple page (PEP 691 JSON) through Orchard, vs a bare Node
// http server answering the same bytes from memory (target ≥ 0.5). The proxy
// and the baseline are child processes; this process generates the load with
// the same undici loops for both (keep-alive connections, fixed duration).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { type Child, startChild } from './child.ts';
import type { BenchContext, BenchModule, BenchResult } from './types.ts';

const MiB = 1024 * 1024;
const connections = Number(process.env.ORCHARD_BENCH_FORMATS_CONNECTIONS ?? 16);
const seconds = Number(process.env.ORCHARD_BENCH_FORMATS_SECONDS ?? 5);

// The baseline: a bare server answering every request with one file's bytes from memory.
const memoryServer = `const fs=require('fs'),http=require('http');const body=fs.readFileSync(process.argv[1]);const type=process.argv[2];
http.createServer((q,s)=>{s.writeHead(200,{'content-type':type,'content-length':body.length});s.end(body)})
.listen(0,'127.0.0.1',function(){console.log('listening '+this.address().port)})`;

/** A packument of about `size` bytes: many versions with a dependency list and dist each. */
function packument(size: number): Buffer {
  const versions: Record<string, unknown> = {};
  const time: Record<string, string> = {};
  const deps = Object.fromEntries(
    Array.from({ length: 12 }, (_, i) => [`dependency-number-${i}`, `^${i}.0.0`]),
  );
  for (let i = 0; JSON.stringify(versions).length < size; i++) {
    const v = `1.${i}.0`;
    versions[v] = {
      name: 'bench-pkg',
      version: v,
      description: 'a package with many versions',
      dependencies: deps,
      dist: { tarball: `http://upstream.invalid/bench-pkg/-/bench-pkg-${v}.tgz`, shasum: 'a'.repeat(40) },
    };
    time[v] = new Date(Date.UTC(2020, 0, 1) + i * 3_600_000).toISOString();
  }
  return Buffer.from(JSON.stringify({ name: 'bench-pkg', 'dist-tags': { latest: '1.0.0' }, versions, time }));
}

/** A PEP 691 project page of about `size` bytes. */
function simplePage(size: number): Buffer {
  const files: unknown[] = [];
  for (let i = 0; JSON.stringify(files).length < size; i++) {
    const filename = `bench_pkg-1.${i}.0-py3-none-any.whl`;
    files.push({
      filename,
      url: `../../packages/${String(i % 256).padStart(2, '0')}/${filename}`,
      hashes: { sha256: i.toString(16).padStart(64, '0') },
      'upload-time': new Date(Date.UTC(2020, 0, 1) + i * 3_600_000).toISOString(),
    });
  }
  return Buffer.from(JSON.stringify({ meta: { 'api-version': '1.1' }, name: 'bench-pkg', files }));
}

async function upstream(
  routes: Record<string, { body: Buffer; type: string }>,
): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const r = routes[new URL(req.url ?? '/', 'http://x').pathname];
    res.writeHead(r ? 200 : 404, { 'content-type': r?.type ?? 'text/plain' });
    res.end(r?.body ?? 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

async function startOrchard(dir: string, upstreamUrl: string): Promise<Child> {
  const config = join(dir, 'config');
  await mkdir(config, { recursive: true });
  const remote = (name: string, pkg: string) =>
    `apiVersion: orchard.dev/v1alpha1\nkind: Remote\nmetadata: { name: ${name} }\nspec: { type: remote, package: ${pkg}, baseUrl: "${upstreamUrl}", cache: { mutableTtl: 3600 } }\n`;
  await writeFile(join(config, 'remotes.yaml'), `${remote('npm', 'npm')}---\n${remote('pypi', 'pypi')}`);
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
  return startChild(['proxy/src/main.ts'], { env, port });
}

/** `connections` keep-alive loops GETting `url` for `seconds` (after a 1 s warm-up); requests per second. */
async function load(url: string, headers: Record<string, string>): Promise<number> {
  const u = new URL(url);
  const pool = new Pool(u.origin, { connections, pipelining: 1 });
  const run = async (until: number) => {
    let ok = 0;
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (performance.now() < until) {
          const r = await pool.request({ path: u.pathname, method: 'GET', headers });
          await r.body.dump({ limit: Number.POSITIVE_INFINITY });
          if (r.statusCode === 200) ok++;
        }
      }),
    );
    return ok;
  };
  try {
    await run(performance.now() + 1000);
    return (await run(performance.now() + seconds * 1000)) / seconds;
  } finally {
    await pool.close();
  }
}

/** One GET; the body and the headers that matter here. */
async function get(
  url: string,
  headers: Record<string, string>,
): Promise<{ body: Buffer; source: string | null; type: string }> {
  const res = await fetch(url, { headers });
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  const body = Buffer.from(await res.arrayBuffer());
  return { body, source: res.headers.get('x-artifact-source'), type: res.headers.get('content-type') ?? '' };
}

async function measure(
  ctx: BenchContext,
  dir: string,
  what: { name: string; url: string; headers: Record<string, string> },
): Promise<BenchResult> {
  await get(what.url, what.headers);
  // The first request filled the cache; make sure this one is a hit before measuring.
  let hit = await get(what.url, what.headers);
  for (let i = 0; i < 20 && hit.source !== 'cache'; i++) hit = await get(what.url, what.headers);
  if (hit.source !== 'cache') throw new Error(`${what.name}: no cache hit`);
  const file = join(dir, `${what.name.replace(/\W+/g, '-')}.body`);
  await writeFile(file, hit.body);
  const bare = await startChild(['-e', memoryServer, file, hit.type]);
  try {
    ctx.log(
      `${what.name}: ${(hit.body.length / MiB).toFixed(2)} MiB, ${connections} connections, ${seconds} s, best of 2`,
    );
    let bareRps = 0;
    let hitRps = 0;
    for (let i = 0; i < 2; i++) {
      bareRps = Math.max(bareRps, await load(bare.url, what.headers));
      hitRps = Math.max(hitRps, await load(what.url, what.headers));
    }
    return {
      name: `warm hits, ${what.name}`,
      unit: 'req/s',
      value: hitRps,
      baseline: { name: 'bare Node http from memory', value: bareRps },
      target: 0.5,
    };
  } finally {
    await bare.stop();
  }
}

const bench: BenchModule = async (ctx) => {
  const dir = await mkdtemp(join(tmpdir(), 'orchard-bench-formats-'));
  const up = await upstream({
    '/bench-pkg': { body: packument(MiB), type: 'application/json' },
    '/simple/bench-pkg/': { body: simplePage(MiB), type: 'application/vnd.pypi.simple.v1+json' },
  });
  const orchard = await startOrchard(dir, up.url);
  try {
    return [
      await measure(ctx, dir, {
        name: '1 MiB npm packument',
        url: `${orchard.url}/api/v1/remote/npm/bench-pkg`,
        headers: { accept: 'application/json' },
      }),
      await measure(ctx, dir, {
        name: '1 MiB PyPI simple page (JSON)',
        url: `${orchard.url}/api/v1/remote/pypi/simple/bench-pkg/`,
        headers: { accept: 'application/vnd.pypi.simple.v1+json' },
      }),
    ];
  } finally {
    await orchard.stop();
    up.server.closeAllConnections();
    up.server.close();
    await rm(dir, { recursive: true, force: true });
  }
};

export default bench;
