import { describe, expect, it } from 'vitest';
import { ApiError } from '../http/errors.ts';
import { maxPathLength, normalizePath, rawPathAfter } from './path-guard.ts';

describe('normalizePath', () => {
  it.each([
    [
      'plain file',
      'owner/repo/releases/download/v1.0/binary.tar.gz',
      'owner/repo/releases/download/v1.0/binary.tar.gz',
    ],
    ['trailing slash kept', 'simple/requests/', 'simple/requests/'],
    ['encoded space decoded', 'dir/my%20file.txt', 'dir/my file.txt'],
    ['plus kept literal', 'pkgs/c++-1.0.rpm', 'pkgs/c++-1.0.rpm'],
    ['dots inside names', 'a/..hidden/file..tar', 'a/..hidden/file..tar'],
    ['single dot prefix', '.well-known/x', '.well-known/x'],
    ['encoded at-sign', '%40scope/pkg', '@scope/pkg'],
    ['unicode', 'd%C3%A9j%C3%A0/vu', 'déjà/vu'],
  ])('accepts a %s', (_name, raw, want) => {
    expect(normalizePath(raw)).toBe(want);
  });

  it.each([
    ['dot-dot segment', 'a/../b'],
    ['leading dot-dot', '../etc/passwd'],
    ['trailing dot-dot', 'a/..'],
    ['encoded dot-dot', 'a/%2e%2e/b'],
    ['upper-case encoded dot-dot', 'a/%2E%2E/b'],
    ['half-encoded dot-dot', 'a/.%2e/b'],
    ['dot segment', 'a/./b'],
    ['encoded slash', 'a%2fb'],
    ['upper-case encoded slash', 'a%2Fb'],
    ['encoded slash traversal', '..%2fetc%2fpasswd'],
    ['backslash', 'a\\..\\b'],
    ['encoded backslash', 'a%5c..%5cb'],
    ['NUL', 'a\u0000b'],
    ['encoded NUL', 'file%00.txt'],
    ['control character', 'a%0ab'],
    ['double-encoded dot-dot', '%252e%252e/etc'],
    ['empty segment', 'a//b'],
    ['absolute path', '/etc/passwd'],
    ['empty path', ''],
    ['malformed escape', 'a%zzb'],
    ['truncated escape', 'a%2'],
    ['overlong path', 'a/'.repeat(maxPathLength)],
  ])('rejects a %s with 400 INVALID_PATH', (_name, raw) => {
    let caught: unknown;
    try {
      normalizePath(raw);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ApiError);
    expect((caught as ApiError).code).toBe('INVALID_PATH');
    expect((caught as ApiError).status).toBe(400);
  });
});

describe('rawPathAfter', () => {
  it('returns the still-encoded rest of the path without the query', () => {
    expect(rawPathAfter('/api/v1/remote/gh/a/%2e%2e/b?x=1', '/api/v1/remote/gh/')).toBe('a/%2e%2e/b');
  });
  it('returns undefined for another prefix', () => {
    expect(rawPathAfter('/api/v1/other/gh/a', '/api/v1/remote/gh/')).toBeUndefined();
  });
});
