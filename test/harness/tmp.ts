import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestScope, whenTestEnds } from './scope.ts';

const leftovers = new Set<string>();
process.once('exit', () => {
  for (const dir of leftovers) rmSync(dir, { recursive: true, force: true });
});

/**
 * A new empty directory under ORCHARD_TEST_TMP (set by `npm test`) or the OS temp dir.
 * Called inside a test, it is removed when the test finishes (pass the test context as
 * `scope` in concurrent tests); otherwise (e.g. in beforeAll) it is removed when the
 * worker process exits. Safe to call concurrently.
 */
export async function tmpDir(prefix = 't-', scope?: TestScope): Promise<string> {
  let dir: string | undefined;
  const remove = () => {
    if (!dir) return;
    leftovers.delete(dir);
    rmSync(dir, { recursive: true, force: true });
  };
  const inTest = whenTestEnds(remove, scope);
  dir = await mkdtemp(join(process.env.ORCHARD_TEST_TMP || tmpdir(), `orchard-${prefix}`));
  if (!inTest) leftovers.add(dir);
  return dir;
}
