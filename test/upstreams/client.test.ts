import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpstreamClient } from '../../proxy/src/upstream/client.ts';
import { toUpstreamError, UpstreamError } from '../../proxy/src/upstream/errors.ts';
import { TestUpstream } from './server.ts';

const home = new TestUpstream();
const elsewhere = new TestUpstream();
const client = new UpstreamClient({ headersTimeoutMs: 500, bodyIdleTimeoutMs: 500, connectTimeoutMs: 1000 });
const creds = { username: 'alice', password: 's3cret-pw', headers: { 'x-api-key': 'k-123' } };

beforeAll(async () => {
  await Promise.all([home.start(), elsewhere.start()]);
  home.set('/file.txt', 'hello');
  elsewhere.set('/moved.txt', 'moved here');
  home.set('/same/moved.txt', 'same host');
});
afterAll(async () => {
  await client.close();
  await Promise.all([home.close(), elsewhere.close()]);
});

async function text(body: Readable): Promise<string> {
  let s = '';
  for await (const c of body) s += (c as Buffer).toString();
  return s;
}

function lastRequest(server: TestUpstream, path: string) {
  return server.requests.filter((r) => r.path === path).at(-1)!;
}

describe('UpstreamClient', () => {
  it('fetches a file, asks for identity encoding and sends credentials to the remote origin', async () => {
    const res = await client.request({ remote: 'r', url: `${home.url}/file.txt`, credentials: creds });
    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe('5');
    expect(await text(res.body)).toBe('hello');
    const seen = lastRequest(home, '/file.txt');
    expect(seen.headers['accept-encoding']).toBe('identity');
    expect(seen.headers.authorization).toBe(`Basic ${Buffer.from('alice:s3cret-pw').toString('base64')}`);
    expect(seen.headers['x-api-key']).toBe('k-123');
  });

  it('sends a bearer token when the remote has one', async () => {
    await text(
      (await client.request({ remote: 'r', url: `${home.url}/file.txt`, credentials: { token: 'tok-9' } }))
        .body,
    );
    expect(lastRequest(home, '/file.txt').headers.authorization).toBe('Bearer tok-9');
  });

  it('follows a redirect to another host without any credentials', async () => {
    home.behave('/go-away', { kind: 'redirect', to: `${elsewhere.url}/moved.txt` }, 1);
    const res = await client.request({ remote: 'r', url: `${home.url}/go-away`, credentials: creds });
    expect(await text(res.body)).toBe('moved here');
    expect(res.redirects).toBe(1);
    const seen = lastRequest(elsewhere, '/moved.txt');
    expect(seen.headers.authorization).toBeUndefined();
    expect(seen.headers['x-api-key']).toBeUndefined();
  });

  it('keeps credentials on a redirect within the remote origin', async () => {
    home.behave('/hop', { kind: 'redirect', to: '/same/moved.txt', status: 301 }, 1);
    const res = await client.request({ remote: 'r', url: `${home.url}/hop`, credentials: creds });
    expect(await text(res.body)).toBe('same host');
    expect(lastRequest(home, '/same/moved.txt').headers['x-api-key']).toBe('k-123');
  });

  it('never sends credentials to a URL outside credentialOrigin', async () => {
    await text(
      (
        await client.request({
          remote: 'r',
          url: `${elsewhere.url}/moved.txt`,
          credentials: creds,
          credentialOrigin: home.url,
        })
      ).body,
    );
    expect(lastRequest(elsewhere, '/moved.txt').headers.authorization).toBeUndefined();
  });

  it('gives up on a redirect loop with a protocol error', async () => {
    home.behave('/loop', { kind: 'redirect', to: '/loop' });
    const err = await client.request({ remote: 'r', url: `${home.url}/loop` }).catch((e) => e);
    home.behave('/loop');
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err.kind).toBe('protocol');
  });

  it('reports a refused connection as a network failure naming the remote, not the URL', async () => {
    const closed = new TestUpstream();
    await closed.start();
    const url = `${closed.url.replace('http://', 'http://user:pw@')}/x`;
    await closed.close();
    const err = await client.request({ remote: 'gone', url }).catch((e) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err.kind).toBe('network');
    expect(err.message).toContain('gone');
    expect(err.message).not.toContain('pw@');
  });

  it('times out waiting for the first byte', async () => {
    home.behave('/file.txt', { kind: 'delay', ms: 1500 }, 1);
    const err = await client.request({ remote: 'r', url: `${home.url}/file.txt` }).catch((e) => e);
    expect(err.kind).toBe('timeout');
  });

  it.each([
    ['a stalled body', { kind: 'stall', after: 3 } as const, 'timeout'],
    ['a reset mid-body', { kind: 'reset', after: 3 } as const, 'network'],
    ['a truncated body', { kind: 'truncate', after: 3 } as const, 'network'],
    ['a body shorter than its Content-Length', { kind: 'lie-length', contentLength: 50 } as const, 'network'],
  ])('makes the body error on %s', async (_name, fault, kind) => {
    home.set('/big.bin', Buffer.alloc(40, 7));
    home.behave('/big.bin', fault, 1);
    const res = await client.request({ remote: 'r', url: `${home.url}/big.bin` });
    expect(res.status).toBe(200);
    const err = await text(res.body).catch((e) => e);
    expect(toUpstreamError(err, 'r').kind).toBe(kind);
  });

  it('resolves 4xx and 5xx answers instead of throwing', async () => {
    home.behave('/file.txt', { kind: 'status', status: 503 }, 1);
    const res = await client.request({ remote: 'r', url: `${home.url}/file.txt` });
    expect(res.status).toBe(503);
    await text(res.body);
    const missing = await client.request({ remote: 'r', url: `${home.url}/nope` });
    expect(missing.status).toBe(404);
    await text(missing.body);
  });
});
