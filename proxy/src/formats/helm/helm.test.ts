/* biome-ignore-all lint/suspicious/noExplicitAny: parsed YAML documents are explored freely in assertions */

import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { makeRemote } from '../../cache/testing.ts';
import { ApiError } from '../../http/errors.ts';
import type { RewriteInput } from '../format.ts';
import { helmFormat } from './index.ts';

const remote = makeRemote('charts', { package: 'helm', baseUrl: 'http://charts.test/repo' });
const day = 86_400_000;
const now = Date.now();
const sha = (c: string) => c.repeat(64);

const indexYaml = `apiVersion: v1
entries:
  vault:
    - name: vault
      version: 0.28.0
      created: "${new Date(now - day).toISOString()}"
      digest: ${sha('a')}
      urls:
        - vault-0.28.0.tgz
    - name: vault
      version: 0.27.0
      created: "${new Date(now - 30 * day).toISOString()}"
      digest: ${sha('b')}
      urls:
        - http://charts.test/repo/charts/vault-0.27.0.tgz
  consul:
    - name: consul
      version: 1.0.0
      created: "${new Date(now - day).toISOString()}"
      urls:
        - https://github.test/releases/consul-1.0.0.tgz
generated: "2024-01-01T00:00:00Z"
`;

async function rewrite(body: string, extra: Partial<RewriteInput> = {}) {
  const handler = helmFormat.indexHandler!('index.yaml', 'application/x-yaml')!;
  const input: RewriteInput = {
    remote,
    path: 'index.yaml',
    body: Buffer.from(body),
    proxyBase: 'http://proxy.test/api/v1/remote/charts',
    ...extra,
  };
  const out = await handler.rewrite(input);
  return { ...out, doc: load(out.body.toString()) as any };
}

describe('helm index rewriting', () => {
  it('makes chart URLs below baseUrl relative to the index and keeps other hosts', async () => {
    const out = await rewrite(indexYaml);
    expect(out.doc.entries.vault.map((e: { urls: string[] }) => e.urls[0])).toEqual([
      'vault-0.28.0.tgz',
      'charts/vault-0.27.0.tgz',
    ]);
    expect(out.doc.entries.consul[0].urls).toEqual(['https://github.test/releases/consul-1.0.0.tgz']);
    expect(out.hints).toEqual([
      {
        path: 'vault-0.28.0.tgz',
        digest: { algorithm: 'sha256', hex: sha('a') },
        publishedAt: new Date(now - day),
      },
      {
        path: 'charts/vault-0.27.0.tgz',
        digest: { algorithm: 'sha256', hex: sha('b') },
        publishedAt: new Date(now - 30 * day),
      },
    ]);
  });

  it('keeps scalars as helm types them: strings, except its booleans', async () => {
    const body =
      'entries:\n  app:\n    - name: app\n      version: 1.0.0\n      appVersion: 1.10\n      deprecated: yes\n      urls: [app-1.0.0.tgz]\n';
    const out = await rewrite(body);
    expect(out.doc.entries.app[0]).toMatchObject({ appVersion: '1.10', deprecated: true, version: '1.0.0' });
  });

  it('refuses an alias bomb instead of expanding it', async () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 12; i++)
      bomb.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(',')}]`,
      );
    const err = await rewrite(`${bomb.join('\n')}\nentries: {}\n`).catch((e: unknown) => e);
    expect((err as ApiError).code).toBe('UPSTREAM_ERROR');
  });

  it('drops entries in quarantine, and chart names left without entries', async () => {
    const isQuarantined = (path: string, at: Date | undefined) =>
      path.endsWith('.tgz') && !!at && at.getTime() > now - 7 * day;
    const out = await rewrite(indexYaml, { isQuarantined });
    expect(out.doc.entries.vault.map((e: { version: string }) => e.version)).toEqual(['0.27.0']);
    // consul's URL is on another host: the remote cannot serve it, so it cannot be quarantined here either.
    expect(out.doc.entries.consul).toHaveLength(1);
  });

  it('classifies index.yaml as built-in mutable and names it as the charts hint source', () => {
    expect(helmFormat.classify('index.yaml')).toBe('mutable-builtin');
    expect(helmFormat.classify('vault-0.28.0.tgz')).toBeUndefined();
    expect(helmFormat.hintSource!('charts/vault-0.27.0.tgz')).toBe('index.yaml');
    expect(helmFormat.upstreamUrl(remote, 'index.yaml')).toBe('http://charts.test/repo/index.yaml');
  });

  it.each([
    ['invalid YAML', 'entries: [a: b'],
    ['not a mapping', '- a\n- b\n'],
    ['entries not a mapping', 'entries: 3\n'],
    ['entry list not a list', 'entries:\n  vault: 3\n'],
  ])('refuses a malformed index (%s) with UPSTREAM_ERROR', async (_name, body) => {
    const err = await rewrite(body).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('UPSTREAM_ERROR');
  });

  it('rewrites an index of 10,000 charts in one pass', async () => {
    const lines = ['apiVersion: v1', 'entries:'];
    for (let i = 0; i < 10_000; i++) {
      lines.push(
        `  chart${i}:`,
        `    - name: chart${i}`,
        '      version: 1.0.0',
        `      digest: ${sha('c')}`,
        '      urls:',
        `        - chart${i}-1.0.0.tgz`,
      );
    }
    const out = await rewrite(`${lines.join('\n')}\n`);
    expect(Object.keys(out.doc.entries)).toHaveLength(10_000);
    expect(out.hints).toHaveLength(10_000);
    expect(out.doc.entries.chart9999[0].urls).toEqual(['chart9999-1.0.0.tgz']);
  });
});

describe('helm virtual merge', () => {
  it('unions charts, first member winning on name and version, with absolute member URLs', async () => {
    const a = await rewrite(indexYaml);
    const other = `apiVersion: v1\nentries:\n  vault:\n    - name: vault\n      version: 0.28.0\n      urls: [other.tgz]\n    - name: vault\n      version: 0.1.0\n      urls: [vault-0.1.0.tgz]\n`;
    const b = await rewrite(other);
    const merged = await helmFormat.mergeIndexes!({
      path: 'index.yaml',
      proxyBase: 'http://proxy.test/api/v1/virtual/all',
      members: [
        { remote, body: a.body, proxyBase: 'http://proxy.test/api/v1/remote/a' },
        { remote, body: b.body, proxyBase: 'http://proxy.test/api/v1/remote/b' },
      ],
    });
    const doc = load(merged.body.toString()) as any;
    expect(doc.entries.vault.map((e: { version: string; urls: string[] }) => [e.version, e.urls[0]])).toEqual(
      [
        ['0.28.0', 'http://proxy.test/api/v1/remote/a/vault-0.28.0.tgz'],
        ['0.27.0', 'http://proxy.test/api/v1/remote/a/charts/vault-0.27.0.tgz'],
        ['0.1.0', 'http://proxy.test/api/v1/remote/b/vault-0.1.0.tgz'],
      ],
    );
    expect(doc.entries.consul[0].urls).toEqual(['https://github.test/releases/consul-1.0.0.tgz']);
  });
});
