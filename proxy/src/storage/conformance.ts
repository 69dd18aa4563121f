/**
 * The one BlobStore conformance suite (after distribution's
 * registry/storage/driver/testsuites). Every backend's test file is a few lines:
 *
 *   describeBlobStoreConformance('fs', async () => wrapBlobStore(new FsBlobStore({ root }), { registry }));
 *
 * The factory must return a store wrapped by `base.ts` (key validation is part
 * of the contract) whose `list('')` is empty: a fresh directory, a fresh bucket
 * prefix. Every test writes under its own unique key prefix and must clean up;
 * `afterEach` fails the test when objects (or, via `leftovers`, temp files or
 * open multipart sessions) remain, then removes them so later tests start clean.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe } from 'vitest';
import type { BlobStore } from './blob-store.ts';
import { collectAsync } from './conformance/data.ts';
import { describeFailures } from './conformance/failures.ts';
import { describeKeys } from './conformance/keys.ts';
import { describeMultipart } from './conformance/multipart.ts';
import { describeObjects } from './conformance/objects.ts';
import { describeRanges } from './conformance/ranges.ts';

export interface ConformanceOptions {
  /**
   * Backend-level garbage a test must not leave: temp files, open multipart
   * sessions. Returns a description per item; empty when clean.
   */
  leftovers?: () => Promise<string[]>;
  /** Removes what `leftovers` reported, so one failing test does not fail the rest. */
  cleanLeftovers?: () => Promise<void>;
  /**
   * A second, independent store over the same persistent state (a new process
   * would build this). Enables the restart test for multipart sessions.
   */
  reopen?: () => Promise<BlobStore>;
  /** Per-test timeout for the 100 MiB tests; defaults to 120 s. */
  largeTimeoutMs?: number;
}

/** What the section modules get: the store under test and a unique key maker for the running test. */
export interface ConformanceContext {
  readonly store: BlobStore;
  /** A key under the running test's own prefix. */
  key(name: string): string;
  /** The running test's prefix, ending in `/`. */
  readonly prefix: string;
  readonly opts: ConformanceOptions;
}

export function describeBlobStoreConformance(
  name: string,
  factory: () => Promise<BlobStore>,
  opts: ConformanceOptions = {},
): void {
  describe(`BlobStore conformance: ${name}`, () => {
    let store: BlobStore | undefined;
    let prefix = '';
    let counter = 0;
    const ctx: ConformanceContext = {
      get store() {
        if (!store) throw new Error('conformance: the store factory has not run');
        return store;
      },
      key: (k: string) => `${prefix}${k}`,
      get prefix() {
        return prefix;
      },
      opts,
    };

    beforeAll(async () => {
      store = await factory();
      const existing = await collectAsync(store.list(''));
      if (existing.length > 0) {
        throw new Error(
          `conformance: the factory must return an empty store; found ${existing.length} objects`,
        );
      }
    });
    afterAll(async () => {
      await store?.close();
    });
    beforeEach(() => {
      counter += 1;
      prefix = `t${counter}-${randomBytes(4).toString('hex')}/`;
    });
    afterEach(async () => {
      if (!store) return;
      const objects = (await collectAsync(store.list(''))).map((o) => o.key);
      const garbage = (await opts.leftovers?.()) ?? [];
      if (objects.length === 0 && garbage.length === 0) return;
      await Promise.all(objects.map((k) => store?.delete(k)));
      await opts.cleanLeftovers?.();
      throw new Error(`test left data behind: ${JSON.stringify({ objects, garbage })}`);
    });

    describeObjects(ctx);
    describeRanges(ctx);
    describeFailures(ctx);
    describeMultipart(ctx);
    describeKeys(ctx);
  });
}

/** A backend that can list its open multipart sessions (all of Orchard's can). */
export interface UploadLister {
  listUploads(prefix?: string): AsyncIterable<{ key: string; uploadId: string }>;
  abortMultipart(key: string, uploadId: string): Promise<void>;
}

/** `leftovers`/`cleanLeftovers` that report and abort open multipart sessions. */
export function openUploadsCheck(
  backend: UploadLister,
): Required<Pick<ConformanceOptions, 'leftovers' | 'cleanLeftovers'>> {
  return {
    leftovers: async () =>
      (await collectAsync(backend.listUploads())).map((u) => `open upload ${u.uploadId} for ${u.key}`),
    cleanLeftovers: async () => {
      for (const u of await collectAsync(backend.listUploads()))
        await backend.abortMultipart(u.key, u.uploadId);
    },
  };
}
