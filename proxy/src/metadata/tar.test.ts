import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Budget, defaultLimits, type ExtractContext } from './extractor.ts';
import { normalisePath, readTar } from './tar.ts';
import { tar } from './test-archives.ts';

function ctx(): ExtractContext {
  const signal = new AbortController().signal;
  return { limits: defaultLimits, budget: new Budget(defaultLimits, signal), signal };
}

async function entries(archive: Buffer) {
  const out: { path: string; safe: boolean; body?: string }[] = [];
  for await (const e of readTar(Readable.from([archive]), ctx())) {
    out.push({
      path: e.path,
      safe: e.safe,
      body: e.type === 'file' ? (await e.read()).toString() : undefined,
    });
  }
  return out;
}

describe('readTar', () => {
  const long = `${'d'.repeat(120)}/package.json`;
  const pax = (records: Record<string, string>) =>
    Object.entries(records)
      .map(([k, v]) => {
        const body = ` ${k}=${v}\n`;
        let len = body.length + 2;
        while (`${len}${body}`.length !== len) len++;
        return `${len}${body}`;
      })
      .join('');

  it('applies GNU long names and pax paths to the next member', async () => {
    const archive = tar([
      { path: '././@LongLink', type: 'L', body: `${long}\0` },
      { path: 'truncated', body: 'gnu' },
      { path: 'PaxHeaders/x', type: 'x', body: pax({ path: 'pax/named.txt' }) },
      { path: 'ignored', body: 'pax' },
      { path: './plain/./file', body: 'plain' },
    ]);
    expect(await entries(archive)).toEqual([
      { path: long, safe: true, body: 'gnu' },
      { path: 'pax/named.txt', safe: true, body: 'pax' },
      { path: 'plain/file', safe: true, body: 'plain' },
    ]);
  });

  it('ends quietly on an archive cut without end blocks (apk segments)', async () => {
    expect(await entries(tar([{ path: 'a', body: 'x' }], { end: false }))).toEqual([
      { path: 'a', safe: true, body: 'x' },
    ]);
  });

  it('reports a member cut short as truncated', async () => {
    const archive = tar([{ path: 'a', body: 'x'.repeat(2000) }]).subarray(0, 1024);
    await expect(entries(archive)).rejects.toThrow(/truncated/);
  });

  it.each([
    ['../etc/passwd', false],
    ['/abs/path', false],
    ['a/../../b', false],
    ['./ok/./x', true],
  ])('marks %s safe=%s', (raw, safe) => {
    expect(normalisePath(raw).safe).toBe(safe);
  });
});
