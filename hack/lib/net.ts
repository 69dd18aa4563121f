import { connect, createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A TCP port on 127.0.0.1 that was free a moment ago. The port is released before
 * returning, so another process may take it first: callers that cannot listen on
 * port 0 themselves (PostgreSQL, Redis) retry with a new port when binding fails.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('could not read the listening port'))));
    });
  });
}

/** Resolves true when a TCP connection to host:port succeeds within timeoutMs, false otherwise. */
export function canConnect(port: number, host = '127.0.0.1', timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ port, host });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

export interface WaitOptions {
  /** What is awaited, for the error message ("redis on 127.0.0.1:6379"). */
  what: string;
  timeoutMs: number;
  intervalMs?: number;
  /** Stop waiting early when this rejects (e.g. the service process exited). */
  abort?: Promise<never>;
}

/**
 * Polls `probe` until it returns true. Throws after timeoutMs, naming `what` and the
 * probe's last error, or as soon as `abort` rejects. A probe that throws counts as "not yet".
 */
export async function waitUntil(probe: () => Promise<boolean>, opts: WaitOptions): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  const interval = opts.intervalMs ?? 50;
  let aborted: unknown;
  opts.abort?.catch((err) => {
    aborted = err;
  });
  let lastError = '';
  while (Date.now() < deadline) {
    if (aborted) throw aborted;
    try {
      if (await probe()) return;
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    if (aborted) throw aborted;
    await sleep(interval);
  }
  throw new Error(
    `timed out after ${opts.timeoutMs} ms waiting for ${opts.what}${lastError ? `: ${lastError}` : ''}`,
  );
}
