import { onTestFinished, type TestContext } from 'vitest';

/**
 * Where a cleanup is registered: a test context (`it.concurrent('…', async (ctx) => …)`).
 * Concurrent tests must pass theirs, because vitest's global onTestFinished only knows
 * the test that started last.
 */
export type TestScope = Pick<TestContext, 'onTestFinished'>;

/**
 * Runs `fn` when the given test, or else the current test, finishes. Returns false,
 * registering nothing, when called outside a test (e.g. in beforeAll). Call it before
 * the first await, while the current test is still known.
 */
export function whenTestEnds(fn: () => unknown, scope?: TestScope): boolean {
  try {
    (scope?.onTestFinished ?? onTestFinished)(async () => {
      await fn();
    });
    return true;
  } catch {
    return false;
  }
}
