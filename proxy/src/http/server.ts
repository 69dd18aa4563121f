import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Koa from 'koa';
import type { Logger } from './logger.ts';

export interface RunningServer {
  server: Server;
  url: string;
  port: number;
  /**
   * Graceful stop: refuse new connections, let in-flight requests finish for
   * up to `graceMs`, then cut what is left. Resolves when the socket is closed.
   */
  close(graceMs?: number): Promise<void>;
}

export async function listen(
  app: Koa,
  opts: { host: string; port: number; logger: Logger },
): Promise<RunningServer> {
  const server = createServer(app.callback());
  // Long uploads and slow clients: do not let Node's defaults cut healthy transfers.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host;
  return {
    server,
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: (graceMs = 25_000) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          opts.logger.warn('shutdown grace period over; closing remaining connections', {
            grace_ms: graceMs,
          });
          server.closeAllConnections();
        }, graceMs);
        timer.unref();
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
