// ORCHARD_PUBLIC_URL: URLs written into rewritten indexes (npm tarballs must be
// absolute) name the configured origin, whatever Host the filling request used.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../proxy/src/settings.ts';
import { type Orchard, remote, startOrchard } from './orchard.ts';
import { StaticUpstream } from './static-upstream.ts';

const publicUrl = 'https://artifacts.example.com';
let upstream: StaticUpstream;
let orchard: Orchard;

beforeAll(async () => {
  upstream = new StaticUpstream();
  await upstream.start();
  upstream.files.set('/left-pad', {
    type: 'application/json',
    body: JSON.stringify({
      name: 'left-pad',
      'dist-tags': { latest: '1.0.0' },
      versions: {
        '1.0.0': {
          name: 'left-pad',
          version: '1.0.0',
          dist: { tarball: `${upstream.url}/left-pad/-/left-pad-1.0.0.tgz`, shasum: 'a'.repeat(40) },
        },
      },
    }),
  });
  orchard = await startOrchard([remote('npm', { type: 'remote', package: 'npm', baseUrl: upstream.url })], {
    publicUrl,
  });
});

afterAll(async () => {
  await orchard?.close();
  await upstream?.stop();
});

describe('ORCHARD_PUBLIC_URL', () => {
  it('names the public origin in rewritten npm tarball URLs, not the Host of the filling request', async () => {
    const doc = (await (await fetch(`${orchard.remoteUrl('npm')}/left-pad`)).json()) as {
      versions: Record<string, { dist: { tarball: string } }>;
    };
    expect(doc.versions['1.0.0'].dist.tarball).toBe(
      `${publicUrl}/api/v1/remote/npm/left-pad/-/left-pad-1.0.0.tgz`,
    );
  });

  it('names the public origin in the API info', async () => {
    const info = (await (await fetch(`${orchard.url}/`)).json()) as { remotes: { url: string }[] };
    expect(info.remotes[0].url).toBe(`${publicUrl}/api/v1/remote/npm/`);
  });

  it.each([
    ['ftp://artifacts.example.com', /http\(s\) origin/],
    ['https://artifacts.example.com/some/path', /http\(s\) origin/],
    ['https://user:pw@artifacts.example.com', /http\(s\) origin/],
    ['not a url', /not a URL/],
  ])('rejects %s at start', (value, message) => {
    expect(() => loadSettings({ ORCHARD_PUBLIC_URL: value })).toThrow(message);
  });

  it('accepts an origin with a trailing slash and a port', () => {
    expect(loadSettings({ ORCHARD_PUBLIC_URL: 'http://orchard.svc:8080/' }).publicUrl).toBe(
      'http://orchard.svc:8080',
    );
  });
});
