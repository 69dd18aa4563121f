import { describe, expect, it } from 'vitest';
import { configOf } from '../../registry/test-config.ts';
import { parseChallenge, pullScope, realmAllowed } from './challenge.ts';

describe('WWW-Authenticate challenges', () => {
  it('parses a distribution bearer challenge', () => {
    expect(
      parseChallenge(
        'Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull"',
      ),
    ).toEqual({
      scheme: 'bearer',
      params: {
        realm: 'https://auth.example.com/token',
        service: 'registry.example.com',
        scope: 'repository:a/b:pull',
      },
    });
  });

  it('keeps commas and escaped quotes inside quoted values, and takes tokens unquoted', () => {
    const c = parseChallenge(
      'Bearer realm="https://a/t", scope="repository:x:pull,push", error=insufficient_scope, q="a\\"b"',
    );
    expect(c?.params).toEqual({
      realm: 'https://a/t',
      scope: 'repository:x:pull,push',
      error: 'insufficient_scope',
      q: 'a"b',
    });
  });

  it('reads a basic challenge and rejects garbage', () => {
    expect(parseChallenge('Basic realm="Registry"')?.scheme).toBe('basic');
    expect(parseChallenge('')).toBeUndefined();
    expect(parseChallenge(undefined)).toBeUndefined();
    expect(parseChallenge('"not a scheme"')).toBeUndefined();
  });

  it('derives the pull scope from the request URL', () => {
    expect(pullScope('https://r.example/v2/library/nginx/manifests/latest')).toBe(
      'repository:library/nginx:pull',
    );
    expect(pullScope(`https://r.example/v2/a/b/c/blobs/sha256:${'0'.repeat(64)}`)).toBe(
      'repository:a/b/c:pull',
    );
    expect(pullScope('https://r.example/v2/a/tags/list')).toBe('repository:a:pull');
    expect(pullScope('https://r.example/v2/')).toBeUndefined();
  });
});

describe('token realm allow-list (no SSRF through WWW-Authenticate)', () => {
  const cfg = configOf({
    hub: { type: 'remote', package: 'docker', baseUrl: 'https://registry-1.docker.io' },
    plain: { type: 'remote', package: 'docker', baseUrl: 'http://127.0.0.1:5000' },
    uk: { type: 'remote', package: 'docker', baseUrl: 'https://registry.example.co.uk' },
    listed: {
      type: 'remote',
      package: 'docker',
      baseUrl: 'https://registry.example.com',
      options: { tokenRealmHosts: ['login.example.net', 'auth.internal:8443'] },
    },
  });
  const r = (n: string) => cfg.remotes.get(n)!;

  it.each([
    ['hub', 'https://auth.docker.io/token', true],
    ['hub', 'https://registry-1.docker.io/token', true],
    ['hub', 'http://auth.docker.io/token', false],
    ['hub', 'https://169.254.169.254/latest/meta-data', false],
    ['hub', 'https://kubernetes.default.svc/token', false],
    ['hub', 'https://user:pw@auth.docker.io/token', false],
    ['hub', 'file:///etc/passwd', false],
    ['hub', 'not a url', false],
    ['plain', 'http://127.0.0.1:5001/token', true],
    ['plain', 'http://127.0.0.2/token', false],
    ['uk', 'https://auth.example.co.uk/token', true],
    ['uk', 'https://evil.co.uk/token', false],
    ['listed', 'https://login.example.net/oauth2/token', true],
    ['listed', 'https://auth.internal:8443/token', true],
    ['listed', 'https://auth.internal:9000/token', false],
    ['listed', 'https://auth.example.com/token', false],
  ])('%s: realm %s allowed: %s', (remote, realm, ok) => {
    expect(realmAllowed(r(remote), realm)).toBe(ok);
  });
});
