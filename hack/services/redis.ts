import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitUntil } from '../lib/net.ts';
import { findBinary } from '../lib/packages.ts';
import { type SpawnedProcess, spawnProcess } from '../lib/proc.ts';
import type { RunningService, StartOptions } from './types.ts';

/**
 * A throwaway Redis on 127.0.0.1 and a free port, without persistence.
 * Env: ORCHARD_TEST_REDIS_URL.
 */
export async function startRedis(opts: StartOptions = {}): Promise<RunningService> {
  const started = Date.now();
  const bin = findBinary('redis-server');
  if (!bin) throw new Error('redis-server not found: install the Debian package redis-server');
  const dir = await mkdtemp(join(opts.tmpRoot ?? tmpdir(), 'orchard-redis-'));
  try {
    const { proc, port } = await startServer(bin, dir, opts.timeoutMs ?? 15_000);
    return {
      name: 'redis',
      env: { ORCHARD_TEST_REDIS_URL: `redis://127.0.0.1:${port}` },
      startupMs: Date.now() - started,
      stop: async () => {
        await proc.stop({ graceMs: 5000 });
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

async function startServer(
  bin: string,
  dir: string,
  timeoutMs: number,
): Promise<{ proc: SpawnedProcess; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    // Port 0 would disable TCP in Redis, so a free port is chosen up front.
    const proc = spawnProcess({
      name: 'redis',
      cmd: bin,
      args: [
        ...['--port', String(port), '--bind', '127.0.0.1', '--dir', dir],
        ...['--save', '', '--appendonly', 'no', '--loglevel', 'warning'],
      ],
    });
    try {
      await waitUntil(() => ping(port), { what: `redis on 127.0.0.1:${port}`, timeoutMs, abort: proc.died });
      return { proc, port };
    } catch (err) {
      await proc.stop({ signal: 'SIGKILL' });
      if (!/address already in use/i.test(proc.logs()) || attempt >= 3) throw err;
    }
  }
}

/** Sends PING in RESP and expects +PONG; true when Redis answers. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const sock = connect({ port, host: '127.0.0.1' });
    let reply = '';
    sock.setTimeout(1000, () => {
      sock.destroy();
      reject(new Error('no reply to PING'));
    });
    sock.once('error', reject);
    sock.once('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => {
      reply += d.toString();
      if (!reply.includes('\r\n')) return;
      sock.destroy();
      if (reply.startsWith('+PONG')) resolve(true);
      else reject(new Error(`unexpected reply to PING: ${reply.trim()}`));
    });
  });
}
