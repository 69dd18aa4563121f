import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { describeCoordinatorConformance } from '../../proxy/src/coord/conformance.ts';
import type { Coordinator } from '../../proxy/src/coord/coordinator.ts';
import { RedisCoordinator } from '../../proxy/src/coord/redis.ts';
import { silentLogger as logger } from '../../proxy/src/http/logger.ts';

const url = process.env.ORCHARD_TEST_REDIS_URL;
if (!url) {
  throw new Error(
    'ORCHARD_TEST_REDIS_URL is not set: run this suite through `npm test` (hack/test.ts starts Redis), ' +
      'or point it at a Redis this test may write to (it uses a unique key prefix and removes its keys)',
  );
}

// Every coordinator in this run shares one random prefix; the end of the file checks nothing escaped it.
const runPrefix = `orchard-test-${randomUUID()}:`;
const admin = new Redis(url);

async function keysUnder(prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const batch of admin.scanStream({ match: `${prefix}*`, count: 1000 }) as AsyncIterable<
    string[]
  >) {
    out.push(...batch);
  }
  return out;
}

afterAll(async () => {
  const keys = await keysUnder(runPrefix);
  if (keys.length > 0) await admin.unlink(...keys);
  await admin.quit();
});

describeCoordinatorConformance('redis', async () => {
  const keyPrefix = `${runPrefix}${randomUUID().slice(0, 8)}:`;
  return {
    connect: async () => new RedisCoordinator({ url, logger, keyPrefix }),
    elapse: (ms) => new Promise((r) => setTimeout(r, ms)),
    close: async () => {},
  };
});

describe('RedisCoordinator specifics', () => {
  const keyPrefix = `${runPrefix}specifics:`;
  const open = () => new RedisCoordinator({ url, logger, keyPrefix });

  it('satisfies Coordinator and lays keys out under its prefix', async () => {
    const c = open() satisfies Coordinator;
    try {
      await c.set('a/b', 'v');
      const lock = await c.tryLock('fill:x', { leaseMs: 5000 });
      expect((await keysUnder(keyPrefix)).sort()).toEqual(
        [`${keyPrefix}fence`, `${keyPrefix}k:a/b`, `${keyPrefix}lock:fill:x`].sort(),
      );
      expect(await admin.get(`${keyPrefix}lock:fill:x`)).toMatch(
        new RegExp(`^[0-9a-f-]{36}:${lock!.token}$`),
      );
      await lock!.release();
      await c.delete('a/b');
    } finally {
      await c.close();
    }
  });

  it('restarts fencing tokens above earlier ones when Redis lost the counter', async () => {
    const c = open();
    try {
      const before = await c.tryLock('l', { leaseMs: 5000 });
      await before!.release();
      await admin.del(`${keyPrefix}fence`);
      await new Promise((r) => setTimeout(r, 5));
      const after = await c.tryLock('l', { leaseMs: 5000 });
      expect(after!.token).toBeGreaterThan(before!.token);
      expect(Number.isSafeInteger(after!.token)).toBe(true);
      await after!.release();
    } finally {
      await c.close();
    }
  });

  it('does not touch keys of another prefix', async () => {
    const mine = open();
    const theirs = new RedisCoordinator({ url, logger, keyPrefix: `${runPrefix}theirs:` });
    try {
      await theirs.set('a/1', 'v');
      await mine.set('a/1', 'v');
      expect(await mine.deletePrefix('a/')).toBe(1);
      expect(await theirs.get('a/1')).toBe('v');
    } finally {
      await Promise.all([mine.close(), theirs.close()]);
    }
  });

  it('fails ping, not the constructor, when Redis is unreachable', async () => {
    const dead = new RedisCoordinator({ url: 'redis://127.0.0.1:1', logger, commandTimeoutMs: 500 });
    try {
      await expect(dead.ping()).rejects.toThrow();
    } finally {
      await dead.close();
    }
  });
});
