import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The lifecycle the test upstreams share: one HTTP server on 127.0.0.1, a random port, requests counted by path. */
export class LoopbackServer {
  readonly requests = new Map<string, number>();
  url = '';
  private server?: Server;

  protected async listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<void> {
    const server = createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  protected record(path: string): void {
    this.requests.set(path, (this.requests.get(path) ?? 0) + 1);
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** How many requests a path got (exact match on the URL path). */
  count(path: string): number {
    return this.requests.get(path) ?? 0;
  }
}
