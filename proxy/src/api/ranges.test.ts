import { describe, expect, it } from 'vitest';
import { decideRange, ifRangeMatches, noneMatch } from './ranges.ts';

describe('decideRange', () => {
  it.each([
    [undefined, 100, { kind: 'full' }],
    ['bytes=0-9', 100, { kind: 'partial', start: 0, end: 9 }],
    ['bytes=90-', 100, { kind: 'partial', start: 90, end: 99 }],
    ['bytes=95-200', 100, { kind: 'partial', start: 95, end: 99 }],
    ['bytes=-10', 100, { kind: 'partial', start: 90, end: 99 }],
    ['bytes=-500', 100, { kind: 'partial', start: 0, end: 99 }],
    ['bytes=100-', 100, { kind: 'unsatisfiable' }],
    ['bytes=-0', 100, { kind: 'unsatisfiable' }],
    ['bytes=0-', 0, { kind: 'unsatisfiable' }],
    ['bytes=0-1,5-6', 100, { kind: 'full' }],
    ['bytes=9-3', 100, { kind: 'full' }],
    ['items=0-9', 100, { kind: 'full' }],
    ['bytes=abc', 100, { kind: 'full' }],
  ])('%s of %i bytes', (header, size, expected) => {
    expect(decideRange(header, size)).toEqual(expected);
  });
});

describe('conditional headers', () => {
  const etag = '"abc"';
  const modified = new Date('2026-01-01T00:00:00Z');
  it('If-Range with the same ETag keeps the range; another ETag or an older date drops it', () => {
    expect(ifRangeMatches('"abc"', etag, modified)).toBe(true);
    expect(ifRangeMatches('"xyz"', etag, modified)).toBe(false);
    expect(ifRangeMatches(modified.toUTCString(), etag, modified)).toBe(true);
    expect(ifRangeMatches('Wed, 31 Dec 2025 00:00:00 GMT', etag, modified)).toBe(false);
  });
  it('If-None-Match matches *, lists and weak tags', () => {
    expect(noneMatch('*', etag)).toBe(true);
    expect(noneMatch('"x", W/"abc"', etag)).toBe(true);
    expect(noneMatch('"x"', etag)).toBe(false);
  });
});
