import { defineConfig } from 'vitest/config';

// Services (PostgreSQL, Redis, S3) are started by hack/test.ts, which passes their
// addresses to the suites as ORCHARD_TEST_* environment variables.
export default defineConfig({
  test: {
    include: ['proxy/**/*.test.ts', 'operator/**/*.test.ts', 'test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
