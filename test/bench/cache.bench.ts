// The caching engine's figures (issue 4), each against a baseline measured in
// the same run on the same machine:
// 1. warm-hit throughput, 1 GiB file, vs a plain Node fs → http server (≥ 0.8);
// 2. cold throughput, 1 GiB, vs a plain pass-through proxy of the same upstream (≥ 0.6);
// 3. warm-hit requests/s for a 4 KiB file vs a bare Node server answering from memory (≥ 0.3);
// 4. peak RSS of the proxy process during 20 concurrent 1 GiB cold fetches (< 512 MiB).
// Every server (upstream, proxy, baselines) is its own process; the bench
// process only generates load. Throughputs take the best of 3 runs. The proxy
// runs as a single production replica: PostgreSQL (started here unless
// ORCHARD_TEST_DATABASE_URL names one), the filesystem blob store, in-process
// coordination. Embedded PGlite is not used: its WASM heap alone is ~450 MiB.
// ORCHARD_BENCH_CACHE_SIZE_MB (default 1024) and ORCHARD_BENCH_CACHE_RSS_FILES
// (default 20) shrink the run on small machines.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { type Services, startServices } from '../../hack/services/index.ts';
import { type Child, startChild } from './child.ts';
import type { BenchContext, BenchModule, BenchResult } from './types.ts';

const MiB = 1024 * 1024;
const size = Number(process.env.ORCHARD_BENCH_CACHE_SIZE_MB ?? 1024) * MiB;
const rssFiles = Number(process.env.ORCHARD_BENCH_CACHE_RSS_FILES ?? 20);
/** Write CPU profiles of the proxies to this directory. */
const profileDir = process.env.ORCHARD_BENCH_CACHE_PROFILE_DIR;
/** ORCHARD_BENCH_CACHE_ONLY=throughput,rps,rss runs a subset. */
const only = (phase: string) =>
  !process.env.ORCHARD_BENCH_CACHE_ONLY || process.env.ORCHARD_BENCH_CACHE_ONLY.split(',').includes(phase);

const inline = (code: string, ...args: string[]) => ['-e', code, ...args];

const fsServer = `const fs=require('fs'),http=require('http');const file=process.argv[1];
http.createServer((q,s)=>{const st=fs.statSync(file);s.writeHead(200,{'content-type':'application/octet-stream','content-length':st.size});fs.createReadStream(file).pipe(s)})
.listen(0,'127.0.0.1',function(){console.log('listening '+this.address().port)})`;

const memoryServer = `const http=require('http');const body=Buffer.alloc(4096,7);
http.createServer((q,s)=>{s.writeHead(200,{'content-type':'application/octet-stream','content-length':body.length});s.end(body)})
.listen(0,'127.0.0.1',function(){console.log('listening '+this.address().port)})`;

const passThrough = `const http=require('http');const up=new URL(process.argv[1]);const agent=new http.Agent({keepAlive:true});
http.createServer((q,s)=>{http.get({host:up.hostname,port:up.port,path:q.url,agent},r=>{s.writeHead(r.statusCode,r.headers);r.pipe(s)}).on('error',()=>s.destroy())})
.listen(0,'127.0.0.1',function(){console.log('listening '+this.address().port)})`;

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function startProxy(dir: string, upstream: string, databaseUrl: string): Promise<Child> {
  const config = join(dir, 'config');
  await mkdir(config, { recursive: true });
  await writeFile(
    join(config, 'remote.yaml'),
    `apiVersion: orchard.dev/v1alpha1\nkind: Remote\nmetadata: { name: bench }\nspec: { type: remote, package: generic, baseUrl: "${upstream}" }\n`,
  );
  const port = await freePort();
  const env = {
    ...process.env,
    ORCHARD_CONFIG: config,
    ORCHARD_DATA_DIR: join(dir, 'data'),
    ORCHARD_SERVER_HOST: '127.0.0.1',
    ORCHARD_SERVER_PORT: String(port),
    ORCHARD_LOG_LEVEL: 'warn',
  };
  for (const k of Object.keys(env))
    if (/^ORCHARD_(DATABASE|S3|REDIS)_/.test(k)) delete env[k as keyof typeof env];
  const db = new URL(databaseUrl);
  Object.assign(env, {
    ORCHARD_DATABASE_HOST: db.hostname,
    ORCHARD_DATABASE_PORT: db.port,
    ORCHARD_DATABASE_USER: decodeURIComponent(db.username),
    ORCHARD_DATABASE_PASSWORD: decodeURIComponent(db.password),
    ORCHARD_DATABASE_DBNAME: db.pathname.slice(1),
  });
  const prof = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  return startChild([...prof, 'proxy/src/main.ts'], {
    env,
    port,
    // Profiled proxies stop gracefully, so Node writes the profile.
    stopSignal: profileDir ? 'SIGINT' : 'SIGKILL',
  });
}

/** GET `url`, discard the body; throughput in MiB/s. */
function download(url: string): Promise<{ mibps: number; bytes: number; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    get(url, { agent: false }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => {
        bytes += c.length;
      });
      res.on('end', () => {
        const s = (performance.now() - t0) / 1000;
        if (res.statusCode !== 200) return reject(new Error(`${url}: ${res.statusCode}`));
        resolve({ mibps: bytes / MiB / s, bytes, headers: res.headers });
      });
      res.on('error', reject);
    }).on('error', reject);
  });
}

/** `connections` keep-alive loops GETting `url` for `seconds`; requests per second. */
async function load(url: string, connections = 32, seconds = 5): Promise<number> {
  const u = new URL(url);
  const pool = new Pool(u.origin, { connections, pipelining: 1 });
  const run = async (until: number) => {
    let ok = 0;
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (performance.now() < until) {
          const r = await pool.request({ path: u.pathname, method: 'GET' });
          await r.body.dump();
          if (r.statusCode === 200) ok++;
        }
      }),
    );
    return ok;
  };
  await run(performance.now() + 1000);
  const ok = await run(performance.now() + seconds * 1000);
  await pool.close();
  return ok / seconds;
}

async function vmKiB(pid: number, field: 'VmHWM' | 'VmRSS'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
}

async function throughput(ctx: BenchContext, dir: string, databaseUrl: string): Promise<BenchResult[]> {
  const files = { '/cold/*': { size, seed: 100 } };
  const upstream = await startChild(['test/upstreams/serve.ts', JSON.stringify(files)]);
  const proxy = await startProxy(join(dir, 'a'), upstream.url, databaseUrl);
  const pass = await startChild(inline(passThrough, upstream.url));
  const via = (p: string) => `${proxy.url}/api/v1/remote/bench/${p}`;
  try {
    const results: BenchResult[] = [];
    ctx.log(`cold: ${size / MiB} MiB through a pass-through proxy and through Orchard, alternately, 3 times`);
    let passMibps = 0;
    let coldMibps = 0;
    for (let i = 0; i < 3; i++) {
      passMibps = Math.max(passMibps, (await download(`${pass.url}/cold/pass-${i}.bin`)).mibps);
      coldMibps = Math.max(coldMibps, (await download(via(`cold/orchard-${i}.bin`))).mibps);
    }

    const hit = await download(via('cold/orchard-0.bin'));
    if (hit.headers['x-artifact-source'] !== 'cache') throw new Error('the warm request was not a cache hit');
    const digest = String(hit.headers.etag).replaceAll('"', '');
    const blob = join(dir, 'a', 'data', 'blobs', 'blobs', 'sha256', digest.slice(0, 2), digest);
    const plain = await startChild(inline(fsServer, blob));
    ctx.log('warm: the cached file from Orchard, and the same blob file from a plain fs → http server');
    let fsMibps = 0;
    let warmMibps = 0;
    for (let i = 0; i < 3; i++) {
      fsMibps = Math.max(fsMibps, (await download(plain.url)).mibps);
      warmMibps = Math.max(warmMibps, (await download(via('cold/orchard-0.bin'))).mibps);
    }
    await plain.stop();
    results.push(
      {
        name: `warm-hit throughput (${size / MiB} MiB)`,
        unit: 'MiB/s',
        value: warmMibps,
        baseline: { name: 'Node fs → http', value: fsMibps },
        target: 0.8,
      },
      {
        name: `cold throughput (${size / MiB} MiB)`,
        unit: 'MiB/s',
        value: coldMibps,
        baseline: { name: 'pass-through proxy', value: passMibps },
        target: 0.6,
      },
    );
    return results;
  } finally {
    await Promise.allSettled([proxy.stop(), pass.stop(), upstream.stop()]);
  }
}

async function smallHits(ctx: BenchContext, dir: string, databaseUrl: string): Promise<BenchResult> {
  const upstream = await startChild([
    'test/upstreams/serve.ts',
    JSON.stringify({ '/small.bin': { size: 4096, seed: 2 } }),
  ]);
  const proxy = await startProxy(join(dir, 'c'), upstream.url, databaseUrl);
  const bare = await startChild(inline(memoryServer));
  const hit = `${proxy.url}/api/v1/remote/bench/small.bin`;
  try {
    await download(hit);
    ctx.log(
      'small files: 32 keep-alive connections, 4 KiB warm hits vs a bare in-memory server, alternately, 3 × 4 s',
    );
    let bareRps = 0;
    let hitRps = 0;
    for (let i = 0; i < 3; i++) {
      bareRps = Math.max(bareRps, await load(`${bare.url}/small.bin`, 32, 4));
      hitRps = Math.max(hitRps, await load(hit, 32, 4));
    }
    return {
      name: 'warm-hit requests (4 KiB)',
      unit: 'req/s',
      value: hitRps,
      baseline: { name: 'bare Node http from memory', value: bareRps },
      target: 0.3,
    };
  } finally {
    await Promise.allSettled([proxy.stop(), bare.stop(), upstream.stop()]);
  }
}

async function peakRss(ctx: BenchContext, dir: string, databaseUrl: string): Promise<BenchResult> {
  const upstream = await startChild([
    'test/upstreams/serve.ts',
    JSON.stringify({ '/rss/*': { size, seed: 300 } }),
  ]);
  const proxy = await startProxy(join(dir, 'b'), upstream.url, databaseUrl);
  try {
    const idle = (await vmKiB(proxy.pid, 'VmRSS')) / 1024;
    // Reset the high-water mark (proc(5), clear_refs "5"), so start-up does not count.
    await writeFile(`/proc/${proxy.pid}/clear_refs`, '5');
    ctx.log(`peak RSS: ${rssFiles} concurrent cold fetches of distinct ${size / MiB} MiB files`);
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: rssFiles }, (_, i) => download(`${proxy.url}/api/v1/remote/bench/rss/${i}.bin`)),
    );
    const seconds = (performance.now() - t0) / 1000;
    const peak = (await vmKiB(proxy.pid, 'VmHWM')) / 1024;
    ctx.log(`${rssFiles} × ${size / MiB} MiB in ${seconds.toFixed(1)} s; idle RSS ${idle.toFixed(0)} MiB`);
    return {
      name: `peak RSS, ${rssFiles} concurrent ${size / MiB} MiB cold fetches`,
      unit: 'MiB',
      value: peak,
      baseline: { name: 'idle proxy RSS', value: idle },
      target: 512,
      targetKind: 'max',
    };
  } finally {
    await Promise.allSettled([proxy.stop(), upstream.stop()]);
  }
}

const bench: BenchModule = async (ctx) => {
  const dir = await mkdtemp(join(tmpdir(), 'orchard-cache-bench-'));
  let services: Services | undefined;
  try {
    services = await startServices(['postgres'], { log: ctx.log, reuse: process.env });
    const databaseUrl = services.env.ORCHARD_TEST_DATABASE_URL!;
    // A database per proxy: an earlier run's cache index would turn cold fetches into hits.
    const results: BenchResult[] = [];
    if (only('throughput'))
      results.push(...(await throughput(ctx, dir, await createRunDatabase(databaseUrl))));
    await rm(join(dir, 'a'), { recursive: true, force: true });
    if (only('rps')) results.push(await smallHits(ctx, dir, await createRunDatabase(databaseUrl)));
    if (only('rss')) results.push(await peakRss(ctx, dir, await createRunDatabase(databaseUrl)));
    return results;
  } finally {
    await services?.stop();
    await rm(dir, { recursive: true, force: true });
  }
};

/** A fresh database on the server of `url`; returns its URL. */
async function createRunDatabase(url: string): Promise<string> {
  const { default: pg } = await import('pg');
  const name = `bench_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

export default bench;
