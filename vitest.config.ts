import { defineConfig } from 'vitest/config';

// Services (PostgreSQL, Redis, S3) are started by hack/test.ts, which passes their
// addresses to the suites as ORCHARD_TEST_* environment variables.
export default defineConfig({
  test: {
    include: ['proxy/**/*.test.ts', 'operator/**/*.test.ts', 'test/**/*.test.ts'],
    pool: 'forks',
    // Most suites wait on child processes and sockets, not CPU: two workers on
    // a 2-core machine roughly halve the wall time.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
