/** Helpers for suites under test/: environment, ports, processes, temp dirs. See docs/testing.md. */
export { canConnect, freePort, waitUntil } from '../../hack/lib/net.ts';
export { requireEnv } from './env.ts';
export { type StartProcessOptions, startProcess, type TestProcess } from './process.ts';
export { type TestScope, whenTestEnds } from './scope.ts';
export { tmpDir } from './tmp.ts';
