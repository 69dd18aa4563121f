import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

// proxy/src/gc-tuning.ts (ADR 009), loaded in a fresh Node as main.ts loads it.
const root = new URL('../../', import.meta.url).pathname;
const probe = `
const before = process.memoryUsage();
const t = await import('./proxy/src/gc-tuning.ts');
const after = process.memoryUsage();
console.log(JSON.stringify({
  tuning: t.gcTuning,
  ballast: t.ballast?.byteLength ?? 0,
  buffersGrew: after.arrayBuffers - before.arrayBuffers,
  rssGrew: after.rss - before.rss,
  gcExposedHere: typeof globalThis.gc,
}));`;

function run(env: Record<string, string>) {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', probe], {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  return JSON.parse(out) as {
    tuning: boolean;
    ballast: number;
    buffersGrew: number;
    rssGrew: number;
    gcExposedHere: string;
  };
}

describe('GC tuning', () => {
  // Loading any module moves both figures a little; the ballast is the difference between the two runs.
  const on = run({});
  const off = run({ ORCHARD_GC_TUNING: 'off' });

  it('holds a 64 MiB ballast that V8 counts but that costs no resident memory', () => {
    expect(on.tuning).toBe(true);
    expect(on.ballast).toBe(64 * 1024 * 1024);
    expect(on.buffersGrew - off.buffersGrew).toBeGreaterThanOrEqual(64 * 1024 * 1024);
    expect(on.rssGrew - off.rssGrew).toBeLessThan(8 * 1024 * 1024);
    // gc() is taken from a private context; the process's own global does not grow one.
    expect(on.gcExposedHere).toBe('undefined');
  });

  it('ORCHARD_GC_TUNING=off leaves V8 alone', () => {
    expect(off).toMatchObject({ tuning: false, ballast: 0 });
  });
});
