import { afterEach, describe, expect, it } from 'vitest';
import { TerminalError } from '../reconcile/contract.ts';
import { WorkQueue } from './work-queue.ts';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
let q: WorkQueue | undefined;
afterEach(async () => {
  await q?.stop();
  q = undefined;
});

describe('WorkQueue', () => {
  it('de-duplicates a key added while it waits', async () => {
    const seen: string[] = [];
    q = new WorkQueue({
      process: async (k) => {
        seen.push(k);
        return {};
      },
    });
    q.add('a');
    q.add('a');
    q.add('b');
    q.add('a');
    expect(q.depth()).toBe(2);
    q.resume();
    await sleep(20);
    expect(seen).toEqual(['a', 'b']);
  });

  it('never processes one key concurrently, and reprocesses a key added meanwhile', async () => {
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    q = new WorkQueue({
      concurrency: 4,
      process: async () => {
        active += 1;
        maxActive = Math.max(maxActive, active);
        runs += 1;
        await sleep(30);
        active -= 1;
        return {};
      },
    });
    q.resume();
    q.add('k');
    await sleep(5);
    q.add('k');
    q.add('k');
    await sleep(100);
    expect(maxActive).toBe(1);
    expect(runs).toBe(2);
  });

  it('retries a failing key with exponential backoff, and not a terminal one', async () => {
    const times: number[] = [];
    const outcomes: string[] = [];
    q = new WorkQueue({
      baseDelayMs: 20,
      process: async (k) => {
        if (k === 'terminal') throw new TerminalError('bad spec');
        times.push(Date.now());
        if (times.length < 4) throw new Error('transient');
        return {};
      },
      onResult: (k, o) => outcomes.push(`${k}:${o}`),
    });
    q.resume();
    q.add('terminal');
    q.add('flaky');
    await sleep(400);
    expect(times.length).toBe(4);
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    expect(gaps[0]).toBeGreaterThanOrEqual(18);
    expect(gaps[1]).toBeGreaterThanOrEqual(38);
    expect(gaps[2]).toBeGreaterThanOrEqual(78);
    expect(outcomes.filter((o) => o.startsWith('terminal'))).toEqual(['terminal:terminal']);
    expect(outcomes.at(-1)).toBe('flaky:success');
  });

  it('requeues after the requested delay', async () => {
    let runs = 0;
    q = new WorkQueue({ process: async () => (runs++ < 2 ? { requeueAfterMs: 30 } : {}) });
    q.resume();
    q.add('poll');
    await sleep(10);
    expect(runs).toBe(1);
    await sleep(150);
    expect(runs).toBe(3);
  });

  it('holds work while paused and keeps it', async () => {
    const seen: string[] = [];
    q = new WorkQueue({
      process: async (k) => {
        seen.push(k);
        return {};
      },
    });
    q.add('x');
    await sleep(20);
    expect(seen).toEqual([]);
    q.resume();
    await sleep(20);
    expect(seen).toEqual(['x']);
    await q.pause();
    q.add('y');
    await sleep(20);
    expect(seen).toEqual(['x']);
  });
});
