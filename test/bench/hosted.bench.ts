// Hosted artifacts: upload and download throughput of a 1 GiB artifact through
// the real proxy (a child process: PostgreSQL and fs blobs; PGlite if no PostgreSQL),
// each beside a plain Node baseline in the same run (fs.createReadStream → http
// for downloads, http → fs.createWriteStream for uploads; the median of five
// paired rounds), plus the proxy's peak RSS (VmHWM) during a 5 GiB upload and
// a 5 GiB download.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres } from '../../hack/services/postgres.ts';
import type { RunningService } from '../../hack/services/types.ts';
import type { BenchModule, BenchResult } from './types.ts';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const root = join(import.meta.dirname, '../..');

const bench: BenchModule = async ({ log }) => {
  const dir = await mkdtemp(join(process.env.ORCHARD_TEST_TMP || tmpdir(), 'orchard-bench-hosted-'));
  const children: ChildProcess[] = [];
  let postgres: RunningService | undefined;
  try {
    // The production shape (PostgreSQL + fs blobs): PGlite, the embedded default,
    // is PostgreSQL compiled to WASM in the proxy's own heap (~450 MiB resident),
    // which would swamp what this measures. Without PostgreSQL, fall back to it.
    let dbEnv: Record<string, string> = {};
    try {
      postgres = await startPostgres();
      const u = new URL(postgres.env.ORCHARD_TEST_DATABASE_URL);
      dbEnv = {
        ORCHARD_DATABASE_HOST: u.hostname,
        ORCHARD_DATABASE_PORT: u.port,
        ORCHARD_DATABASE_USER: u.username,
        ORCHARD_DATABASE_PASSWORD: u.password,
        ORCHARD_DATABASE_DBNAME: u.pathname.slice(1),
      };
    } catch (err) {
      log(
        `PostgreSQL unavailable (${(err as Error).message}); using PGlite, whose heap counts in the RSS figures`,
      );
    }
    const proxy = await startChild(
      children,
      [join(root, 'proxy/src/main.ts')],
      {
        ORCHARD_SERVER_HOST: '127.0.0.1',
        ORCHARD_SERVER_PORT: '0',
        ORCHARD_DATA_DIR: join(dir, 'data'),
        ORCHARD_CONFIG: join(root, 'config/samples'),
        ...dbEnv,
      },
      /"url":"(http:\/\/[^"]+)"/,
      'orchard proxy listening',
    );
    const baselineScript = join(dir, 'baseline.mjs');
    await writeFile(baselineScript, baselineServer(join(dir, 'baseline.bin')));
    const baseline = await startChild(children, [baselineScript], {}, /listening (http:\/\/\S+)/);
    log(
      `proxy ${proxy.url} (pid ${proxy.pid}, ${postgres ? 'PostgreSQL' : 'PGlite'}), baseline ${baseline.url}`,
    );

    await call(proxy.url, 'POST', '/api/v1/projects', { name: 'bench' });
    await call(proxy.url, 'POST', '/api/v1/project/bench/packages', { name: 'files' });

    // Paired rounds: each proxy run right after its baseline run, so both see the same load on
    // a shared, noisy machine; the round with the median ratio is reported.
    const uploads: Pair[] = [];
    const downloads: Pair[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const ub = await timeUpload(`${baseline.url}/file`, GiB, false);
      const up = await timeUpload(proxyUploadUrl(proxy.url), GiB, true, `r${round}`);
      const db = await timeDownload(`${baseline.url}/file`, GiB);
      const dp = await timeDownload(`${proxy.url}/api/v1/project/bench/files/+/r${round}`, GiB);
      uploads.push({ proxy: up, baseline: ub });
      downloads.push({ proxy: dp, baseline: db });
      log(
        `round ${round}: upload ${fmt(up)} vs ${fmt(ub)} (${(up / ub).toFixed(2)}), download ${fmt(dp)} vs ${fmt(db)} (${(dp / db).toFixed(2)}) MiB/s`,
      );
    }
    const upload = medianPair(uploads);
    const download = medianPair(downloads);

    const before = await rssMiB(proxy.pid);
    await resetPeak(proxy.pid);
    await timeUpload(proxyUploadUrl(proxy.url), 5 * GiB, true, 'five');
    const uploadPeak = await peakRssMiB(proxy.pid);
    await resetPeak(proxy.pid);
    await timeDownload(`${proxy.url}/api/v1/project/bench/files/+/five`, 5 * GiB);
    const downloadPeak = await peakRssMiB(proxy.pid);
    log(
      `RSS before ${before} MiB; peak during 5 GiB upload ${uploadPeak} MiB, during 5 GiB download ${downloadPeak} MiB`,
    );

    const results: BenchResult[] = [
      {
        name: 'hosted download, 1 GiB',
        unit: 'MiB/s',
        value: download.proxy,
        baseline: { name: 'fs.createReadStream → http', value: download.baseline },
        target: 0.8,
      },
      {
        name: 'hosted upload, 1 GiB (multipart, hashed, committed)',
        unit: 'MiB/s',
        value: upload.proxy,
        baseline: { name: 'http → fs.createWriteStream', value: upload.baseline },
        target: 0.5,
      },
      {
        name: 'proxy peak RSS during a 5 GiB upload',
        unit: 'MiB',
        value: uploadPeak,
        target: 256,
        targetKind: 'max',
      },
      {
        name: 'proxy peak RSS during a 5 GiB download',
        unit: 'MiB',
        value: downloadPeak,
        target: 256,
        targetKind: 'max',
      },
      {
        name: 'proxy RSS growth during a 5 GiB upload and download',
        unit: 'MiB',
        value: Math.max(uploadPeak, downloadPeak) - before,
        target: 64,
        targetKind: 'max',
      },
    ];
    return results;
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode === null ? once(c, 'exit') : undefined)));
    await postgres?.stop();
    await rm(dir, { recursive: true, force: true });
  }
};

const ROUNDS = 5;

interface Pair {
  proxy: number;
  baseline: number;
}

function medianPair(pairs: Pair[]): Pair {
  const sorted = [...pairs].sort((a, b) => a.proxy / a.baseline - b.proxy / b.baseline);
  return sorted[Math.floor(sorted.length / 2)];
}

export default bench;

const fmt = (v: number) => v.toFixed(0);

function proxyUploadUrl(base: string): string {
  return `${base}/api/v1/project/bench/files/upload`;
}

/** A child Node process; resolves once `pattern` (first group: its URL) appears on stdout. */
async function startChild(
  children: ChildProcess[],
  args: string[],
  env: Record<string, string>,
  pattern: RegExp,
  mustInclude?: string,
): Promise<{ url: string; pid: number }> {
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      for (const line of out.split('\n')) {
        const m = pattern.exec(line);
        if (m && (!mustInclude || line.includes(mustInclude))) {
          child.stdout!.off('data', onData);
          child.stdout!.resume();
          child.stderr!.resume();
          resolve({ url: m[1], pid: child.pid! });
          return;
        }
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.once('exit', (code) =>
      reject(new Error(`child exited (${code}) before it was ready:\n${out.slice(-4000)}`)),
    );
  });
}

/** The baseline: the least a Node server can do to move a file over HTTP. */
function baselineServer(file: string): string {
  return `
import { createServer } from 'node:http';
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
const file = ${JSON.stringify(file)};
const server = createServer(async (req, res) => {
  if (req.method === 'PUT') {
    await pipeline(req, createWriteStream(file));
    res.end('{}');
    return;
  }
  res.writeHead(200, { 'content-length': statSync(file).size, 'content-type': 'application/octet-stream' });
  createReadStream(file).pipe(res);
});
server.listen(0, '127.0.0.1', () => console.log('listening http://127.0.0.1:' + server.address().port));
`;
}

/** Stream `size` bytes (a random 1 MiB block repeated, with a unique first block) and return MiB/s. */
async function timeUpload(url: string, size: number, multipart: boolean, tag?: string): Promise<number> {
  const block = randomBytes(MiB);
  const boundary = `----orchard-bench-${randomBytes(8).toString('hex')}`;
  const head = multipart
    ? Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="tag"\r\n\r\n${tag}\r\n` +
          `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="bench.bin"\r\n` +
          'Content-Type: application/octet-stream\r\n\r\n',
      )
    : Buffer.alloc(0);
  const tail = multipart ? Buffer.from(`\r\n--${boundary}--\r\n`) : Buffer.alloc(0);
  const started = performance.now();
  const req = request(url, {
    method: multipart ? 'POST' : 'PUT',
    headers: {
      'content-type': multipart ? `multipart/form-data; boundary=${boundary}` : 'application/octet-stream',
      'content-length': head.length + size + tail.length,
    },
  });
  const response = once(req, 'response') as Promise<[import('node:http').IncomingMessage]>;
  req.write(head);
  for (let sent = 0; sent < size; sent += MiB) {
    const chunk =
      sent === 0 ? randomBytes(Math.min(MiB, size)) : block.subarray(0, Math.min(MiB, size - sent));
    if (!req.write(chunk)) await once(req, 'drain');
  }
  req.end(tail);
  const [res] = await response;
  let text = '';
  for await (const c of res) text += c;
  if (res.statusCode !== 200) throw new Error(`upload to ${url} answered ${res.statusCode}: ${text}`);
  return size / MiB / ((performance.now() - started) / 1000);
}

/** GET `url`, discard the body, check its length, return MiB/s. */
async function timeDownload(url: string, size: number): Promise<number> {
  const started = performance.now();
  const req = request(url);
  req.end();
  const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
  if (res.statusCode !== 200) throw new Error(`GET ${url} answered ${res.statusCode}`);
  let n = 0;
  for await (const c of res) n += (c as Buffer).length;
  if (n !== size) throw new Error(`GET ${url}: ${n} bytes, expected ${size}`);
  return size / MiB / ((performance.now() - started) / 1000);
}

async function call(base: string, method: string, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
}

/** Reset the kernel's peak-RSS mark of `pid` (writing 5 to clear_refs). */
async function resetPeak(pid: number): Promise<void> {
  await writeFile(`/proc/${pid}/clear_refs`, '5');
}

async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]) / 1024);
}

async function peakRssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1]);
  return Math.round(kb / 1024);
}
