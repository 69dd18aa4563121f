import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';

const leftovers = new Set<string>();
process.once('exit', () => {
  for (const dir of leftovers) rmSync(dir, { recursive: true, force: true });
});

/**
 * A new empty directory under ORCHARD_TEST_TMP (set by `npm test`) or the OS temp dir.
 * Called inside a test, it is removed when the test finishes; otherwise (e.g. in
 * beforeAll) it is removed when the worker process exits. Safe to call concurrently.
 */
export async function tmpDir(prefix = 't-'): Promise<string> {
  const dir = await mkdtemp(join(process.env.ORCHARD_TEST_TMP || tmpdir(), `orchard-${prefix}`));
  leftovers.add(dir);
  try {
    onTestFinished(() => {
      leftovers.delete(dir);
      rmSync(dir, { recursive: true, force: true });
    });
  } catch {
    // Not inside a test: the exit hook above removes it.
  }
  return dir;
}
