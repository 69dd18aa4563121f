/**
 * The value of a variable that `npm test` (hack/test.ts) sets for the suites, e.g.
 * ORCHARD_TEST_REDIS_URL. Throws, naming the variable and how to get it, when it is
 * unset or empty: a suite that needs a service fails rather than skips.
 */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (value) return value;
  throw new Error(
    `${name} is not set. This suite needs a service that the test command starts: ` +
      `run it through \`npm test -- <path>\` (hack/test.ts), or set ${name} yourself. See docs/testing.md.`,
  );
}
