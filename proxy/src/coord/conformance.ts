import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Coordinator, Lock } from './coordinator.ts';

/** What the suite needs from a backend: several coordinators sharing it, and a way to let time pass. */
export interface CoordinatorHarness {
  /** A new coordinator on the shared backend: another replica. The suite closes it. */
  connect(): Promise<Coordinator>;
  /** Let `ms` pass for TTLs and leases: move a ManualClock, or really wait. */
  elapse(ms: number): Promise<void>;
  /** Tear the backend down once every coordinator is closed. */
  close(): Promise<void>;
}

/**
 * TTLs and leases the suite uses. A real backend runs on real time, so every
 * "still held" check has at least 400 ms of slack for a busy machine.
 */
const LEASE = 1000;
const PAST = 1500;

/**
 * The Coordinator contract, run against every implementation. Two replicas
 * (`a`, `b`) share one backend; every test works under its own random key
 * space so tests cannot see each other's state.
 */
export function describeCoordinatorConformance(
  name: string,
  makeHarness: () => Promise<CoordinatorHarness>,
): void {
  describe(`Coordinator conformance: ${name}`, () => {
    let h: CoordinatorHarness;
    let a: Coordinator;
    let b: Coordinator;
    let ns: string;
    const extra: Coordinator[] = [];

    beforeAll(async () => {
      h = await makeHarness();
      [a, b] = await Promise.all([h.connect(), h.connect()]);
    });
    afterEach(async () => {
      await Promise.all(extra.splice(0).map((c) => c.close()));
      ns = '';
    });
    afterAll(async () => {
      await Promise.all([a?.close(), b?.close()]);
      await h?.close();
    });
    const k = (key: string) => {
      ns ||= `t${randomUUID().slice(0, 8)}/`;
      return ns + key;
    };

    it('sets, gets and deletes keys, visible to every replica', async () => {
      expect(await a.get(k('x'))).toBeUndefined();
      await a.set(k('x'), 'one');
      expect(await b.get(k('x'))).toBe('one');
      await b.set(k('x'), 'two');
      expect(await a.get(k('x'))).toBe('two');
      await b.delete(k('x'));
      expect(await a.get(k('x'))).toBeUndefined();
      await a.delete(k('never-set'));
    });

    it('expires TTL keys and reports remaining TTL', async () => {
      await a.set(k('short'), 'v', { ttlMs: LEASE });
      await a.set(k('forever'), 'v');
      await a.set(k('zero'), 'v', { ttlMs: 0 });
      expect(await b.get(k('short'))).toBe('v');
      const left = await b.ttl(k('short'));
      expect(left).toBeGreaterThan(0);
      expect(left).toBeLessThanOrEqual(LEASE);
      expect(await a.ttl(k('forever'))).toBe(Number.POSITIVE_INFINITY);
      expect(await a.ttl(k('zero'))).toBe(Number.POSITIVE_INFINITY);
      expect(await a.ttl(k('absent'))).toBeUndefined();
      await h.elapse(PAST);
      expect(await b.get(k('short'))).toBeUndefined();
      expect(await b.ttl(k('short'))).toBeUndefined();
      expect(await b.get(k('forever'))).toBe('v');
    });

    it('clears a TTL when a key is set again without one', async () => {
      await a.set(k('x'), 'v', { ttlMs: LEASE });
      await a.set(k('x'), 'w');
      await h.elapse(PAST);
      expect(await a.get(k('x'))).toBe('w');
    });

    it('rejects negative TTLs and non-positive leases', async () => {
      await expect(a.set(k('x'), 'v', { ttlMs: -1 })).rejects.toThrow(RangeError);
      await expect(a.setIfAbsent(k('x'), 'v', { ttlMs: Number.NaN })).rejects.toThrow(RangeError);
      await expect(a.tryLock(k('l'), { leaseMs: 0 })).rejects.toThrow(RangeError);
      expect(await a.get(k('x'))).toBeUndefined();
    });

    it('sets only absent keys with setIfAbsent, again once a TTL ran out', async () => {
      expect(await a.setIfAbsent(k('once'), 'first', { ttlMs: LEASE })).toBe(true);
      expect(await b.setIfAbsent(k('once'), 'second', { ttlMs: LEASE })).toBe(false);
      expect(await b.get(k('once'))).toBe('first');
      await h.elapse(PAST);
      expect(await b.setIfAbsent(k('once'), 'third')).toBe(true);
      expect(await a.get(k('once'))).toBe('third');
      expect(await a.ttl(k('once'))).toBe(Number.POSITIVE_INFINITY);
    });

    it('lets exactly one of many concurrent setIfAbsent calls win', async () => {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).setIfAbsent(k('race'), `v${i}`)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await a.get(k('race'))).toBe(`v${results.indexOf(true)}`);
    });

    it('deletes exactly the keys under a prefix, taken literally', async () => {
      const keys = ['a/1', 'a/2', 'a/deep/3', 'ab/1', 'b/a/1', 'p*q', 'pzq', 'p[x]'];
      for (const key of keys) await a.set(k(key), 'v');
      const lock = await a.tryLock(k('a/lock'), { leaseMs: 10_000 });
      expect(await b.deletePrefix(k('a/'))).toBe(3);
      expect(await b.deletePrefix(k('p*'))).toBe(1);
      expect(await b.deletePrefix(k('p['))).toBe(1);
      expect(await b.deletePrefix(k('nothing/'))).toBe(0);
      const left = [];
      for (const key of keys) if ((await a.get(k(key))) !== undefined) left.push(key);
      expect(left).toEqual(['ab/1', 'b/a/1', 'pzq']);
      // Locks are not keys: deleting a prefix never breaks a lock.
      expect(await b.tryLock(k('a/lock'), { leaseMs: 10_000 })).toBeUndefined();
      await lock?.release();
      await b.deletePrefix(k(''));
    });

    it('gives a lock to one holder, and to the next after release with a larger token', async () => {
      const first = await a.tryLock(k('l'), { leaseMs: 10_000 });
      expect(first).toMatchObject({ name: k('l') });
      expect(Number.isSafeInteger(first!.token)).toBe(true);
      expect(await b.tryLock(k('l'), { leaseMs: 10_000 })).toBeUndefined();
      expect(await a.tryLock(k('l'), { leaseMs: 10_000 })).toBeUndefined();
      const other = await b.tryLock(k('other'), { leaseMs: 10_000 });
      expect(other).toBeDefined();
      await first!.release();
      const second = await b.tryLock(k('l'), { leaseMs: 10_000 });
      expect(second!.token).toBeGreaterThan(first!.token);
      await Promise.all([second!.release(), other!.release()]);
    });

    it('hands a lock to a second contender once the lease expires, with a larger token', async () => {
      const first = await a.tryLock(k('l'), { leaseMs: LEASE });
      expect(await b.tryLock(k('l'), { leaseMs: LEASE })).toBeUndefined();
      await h.elapse(PAST);
      const second = await b.tryLock(k('l'), { leaseMs: 10_000 });
      expect(second).toBeDefined();
      expect(second!.token).toBeGreaterThan(first!.token);
      await second!.release();
    });

    it('tells a holder that lost its lease, and never lets it release the new holder', async () => {
      const old = await a.tryLock(k('l'), { leaseMs: LEASE });
      await h.elapse(PAST);
      const current = await b.tryLock(k('l'), { leaseMs: 10_000 });
      expect(await old!.renew()).toBe(false);
      await old!.release();
      expect(await a.tryLock(k('l'), { leaseMs: 10_000 })).toBeUndefined();
      expect(await current!.renew()).toBe(true);
      await current!.release();
      expect(await old!.renew()).toBe(false);
      const next = await a.tryLock(k('l'), { leaseMs: 10_000 });
      expect(next!.token).toBeGreaterThan(current!.token);
      await next!.release();
    });

    it('reports a lease that expired untaken as lost', async () => {
      const lock = await a.tryLock(k('l'), { leaseMs: LEASE });
      await h.elapse(PAST);
      expect(await lock!.renew()).toBe(false);
    });

    it('extends a lease on renew', async () => {
      const lock = await a.tryLock(k('l'), { leaseMs: LEASE });
      await h.elapse(LEASE / 2);
      expect(await lock!.renew()).toBe(true);
      await h.elapse(LEASE * 0.6);
      // Past the original lease, within the renewed one.
      expect(await b.tryLock(k('l'), { leaseMs: LEASE })).toBeUndefined();
      await h.elapse(PAST);
      const next = await b.tryLock(k('l'), { leaseMs: LEASE });
      expect(next).toBeDefined();
      await next!.release();
    });

    it('keeps 20 concurrent contenders to one holder at a time with unique, increasing tokens', async () => {
      const replicas = [a, b, ...(await Promise.all([h.connect(), h.connect()]))];
      extra.push(...replicas.slice(2));
      let holder: number | undefined;
      let overlaps = 0;
      const tokens: number[] = [];
      const contend = async (i: number) => {
        const c = replicas[i % replicas.length];
        for (let attempt = 0; attempt < 2000; attempt++) {
          const lock: Lock | undefined = await c.tryLock(k('contended'), { leaseMs: 30_000 });
          if (lock) {
            if (holder !== undefined) overlaps++;
            holder = i;
            tokens.push(lock.token);
            await sleep(2);
            if (holder !== i) overlaps++;
            holder = undefined;
            await lock.release();
            return;
          }
          await sleep(1 + (attempt % 3));
        }
        throw new Error(`contender ${i} never got the lock`);
      };
      await Promise.all(Array.from({ length: 20 }, (_, i) => contend(i)));
      expect(overlaps).toBe(0);
      expect(tokens).toHaveLength(20);
      expect(new Set(tokens).size).toBe(20);
      for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1]);
    });

    it('delivers published messages to subscribers on every replica', async () => {
      const gotA = collect();
      const gotB = collect();
      const gotOther = collect();
      const offA = await a.subscribe(k('ch'), gotA.push);
      const offB = await b.subscribe(k('ch'), gotB.push);
      const offOther = await a.subscribe(k('other'), gotOther.push);
      await b.publish(k('ch'), 'm1');
      await a.publish(k('ch'), 'm2');
      await gotA.until(2);
      await gotB.until(2);
      expect(gotA.messages).toEqual(['m1', 'm2']);
      expect(gotB.messages).toEqual(['m1', 'm2']);
      expect(gotOther.messages).toEqual([]);
      await Promise.all([offA(), offB(), offOther()]);
    });

    it('stops delivery on unsubscribe, only for that subscription', async () => {
      const first = collect();
      const second = collect();
      const sentinel = collect();
      const offFirst = await a.subscribe(k('ch'), first.push);
      const offSecond = await a.subscribe(k('ch'), second.push);
      const offSentinel = await a.subscribe(k('sentinel'), sentinel.push);
      await offFirst();
      await offFirst();
      await b.publish(k('ch'), 'after');
      // Messages from one publisher arrive in order, so once the sentinel is in, 'after' was delivered or dropped.
      await b.publish(k('sentinel'), 'done');
      await sentinel.until(1);
      await second.until(1);
      expect(first.messages).toEqual([]);
      expect(second.messages).toEqual(['after']);
      await offSecond();
      await b.publish(k('ch'), 'later');
      await b.publish(k('sentinel'), 'done2');
      await sentinel.until(2);
      expect(second.messages).toEqual(['after']);
      await offSentinel();
    });

    it('keeps delivering to others when a subscriber throws', async () => {
      const good = collect();
      const offBad = await a.subscribe(k('ch'), () => {
        throw new Error('subscriber bug');
      });
      const offGood = await a.subscribe(k('ch'), good.push);
      await expect(b.publish(k('ch'), 'x')).resolves.toBeUndefined();
      await good.until(1);
      await Promise.all([offBad(), offGood()]);
    });

    it('answers ping while open and stops delivering once closed', async () => {
      const c = await h.connect();
      await expect(c.ping()).resolves.toBeUndefined();
      const got = collect();
      await c.subscribe(k('ch'), got.push);
      const sentinel = collect();
      const off = await b.subscribe(k('ch'), sentinel.push);
      await c.close();
      await c.close();
      await expect(c.ping()).rejects.toThrow();
      await a.publish(k('ch'), 'after close');
      await sentinel.until(1);
      expect(got.messages).toEqual([]);
      await off();
    });
  });
}

function collect() {
  const messages: string[] = [];
  return {
    messages,
    push: (m: string) => {
      messages.push(m);
    },
    /** Resolve once `n` messages arrived; fail after 5 s. */
    async until(n: number): Promise<void> {
      const deadline = Date.now() + 5000;
      while (messages.length < n) {
        if (Date.now() > deadline) throw new Error(`expected ${n} messages, got ${JSON.stringify(messages)}`);
        await sleep(2);
      }
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
