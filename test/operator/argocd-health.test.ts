/**
 * docs/argocd/health.lua against its test cases (docs/argocd/health_test.yaml,
 * ArgoCD's resource_customizations format), run by a real Lua 5.4 interpreter
 * (Debian package lua5.4) the way ArgoCD runs it: `obj` is a global, the
 * script returns `{status, message}`. A live operator's status is checked too.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startFakeCluster } from '../fake-apiserver/index.ts';
import { condition, ref, remote, startOperator, virtual } from './harness.ts';
import { eventually } from './helpers.ts';

const dir = join(import.meta.dirname, '../../docs/argocd');
const cases = (
  parse(readFileSync(join(dir, 'health_test.yaml'), 'utf8')) as {
    tests: { healthStatus: { status: string; message: string }; inputPath: string }[];
  }
).tests;

function lua(): string {
  try {
    execFileSync('lua5.4', ['-v'], { stdio: 'pipe' });
    return 'lua5.4';
  } catch {
    throw new Error(
      'lua5.4 is not installed: apt-get install lua5.4 (npm test installs it when run as root)',
    );
  }
}

/** A JSON value as a Lua table constructor (arrays 1-based, as ArgoCD's JSON-to-Lua conversion). */
function toLua(v: unknown): string {
  if (v === null || v === undefined) return 'nil';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `{${v.map(toLua).join(', ')}}`;
  return `{${Object.entries(v as Record<string, unknown>)
    .map(([k, x]) => `[${JSON.stringify(k)}] = ${toLua(x)}`)
    .join(', ')}}`;
}

function runHealth(obj: unknown): { status: string; message: string } {
  const script = `obj = ${toLua(obj)}\nlocal hs = dofile(${JSON.stringify(join(dir, 'health.lua'))})\nio.write(hs.status, "\\n", hs.message or "")`;
  const out = execFileSync(lua(), ['-'], { input: script, encoding: 'utf8' });
  const [status, ...message] = out.split('\n');
  return { status, message: message.join('\n') };
}

describe('ArgoCD health check (docs/argocd/health.lua)', () => {
  it.each(cases.map((c) => [c.inputPath, c] as const))('%s', (_path, c) => {
    const obj = parse(readFileSync(join(dir, c.inputPath), 'utf8'));
    expect(runHealth(obj)).toEqual(c.healthStatus);
  });

  it('covers Healthy, Progressing and Degraded', () => {
    expect(new Set(cases.map((c) => c.healthStatus.status))).toEqual(
      new Set(['Healthy', 'Progressing', 'Degraded']),
    );
  });

  it('maps the status the operator writes: Healthy when valid, Degraded when not, Progressing after an edit', async () => {
    const cluster = await startFakeCluster();
    const t = await startOperator(cluster);
    try {
      cluster.objects.create(remote('good'));
      cluster.objects.create(virtual('broken', 'generic', ['good', 'absent']));
      await eventually(() =>
        expect(condition(cluster.objects.get(ref('Remote', 'good')), 'Ready')).toBeDefined(),
      );
      await eventually(() =>
        expect(condition(cluster.objects.get(ref('VirtualRepository', 'broken')), 'Ready')).toBeDefined(),
      );
      expect(runHealth(cluster.objects.get(ref('Remote', 'good'))).status).toBe('Healthy');
      expect(runHealth(cluster.objects.get(ref('VirtualRepository', 'broken')))).toMatchObject({
        status: 'Degraded',
        message: expect.stringMatching(/^MemberNotFound: /),
      });
      await t.op.stop();
      cluster.objects.apply(remote('good', { description: 'edited while the operator is down' }));
      expect(runHealth(cluster.objects.get(ref('Remote', 'good'))).status).toBe('Progressing');
    } finally {
      await t.op.stop();
      await cluster.close();
    }
  });
});
