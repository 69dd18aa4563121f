import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.ts';
import { describeCoordinatorConformance } from './conformance.ts';
import type { Coordinator } from './coordinator.ts';
import { MemoryCoordinator, MemoryHub } from './memory.ts';

// Two "replicas" are two coordinators on one hub; time is a ManualClock, so expiry costs no waiting.
describeCoordinatorConformance('memory', async () => {
  const clock = new ManualClock();
  const hub = new MemoryHub({ clock });
  return {
    connect: async () => new MemoryCoordinator({ hub }),
    elapse: async (ms) => clock.advance(ms),
    close: async () => {},
  };
});

describe('MemoryCoordinator', () => {
  it('satisfies Coordinator', () => {
    const c = new MemoryCoordinator() satisfies Coordinator;
    expect(c.name).toBe('memory');
  });

  it('keeps replicas on separate hubs apart', async () => {
    const a = new MemoryCoordinator();
    const b = new MemoryCoordinator();
    await a.set('k', 'v');
    expect(await b.get('k')).toBeUndefined();
    expect(await b.tryLock('l', { leaseMs: 1000 })).toBeDefined();
    expect(await a.tryLock('l', { leaseMs: 1000 })).toBeDefined();
  });

  it('starts fencing tokens from the clock, so they exceed tokens issued before a restart', async () => {
    const clock = new ManualClock();
    const before = await new MemoryCoordinator({ clock }).tryLock('l', { leaseMs: 1000 });
    clock.advance(1);
    // A new hub is a restarted process: its counter starts over, from a later time.
    const after = await new MemoryCoordinator({ clock }).tryLock('l', { leaseMs: 1000 });
    expect(after!.token).toBeGreaterThan(before!.token);
  });

  it('drops expired entries nobody reads again', async () => {
    const clock = new ManualClock();
    const hub = new MemoryHub({ clock });
    const c = new MemoryCoordinator({ hub });
    for (let i = 0; i < 1000; i++) await c.set(`neg/${i}`, '1', { ttlMs: 10 });
    clock.advance(20);
    for (let i = 0; i < 100; i++) await c.set(`live/${i}`, '1');
    expect(hub.keys.size).toBeLessThanOrEqual(100);
  });
});
