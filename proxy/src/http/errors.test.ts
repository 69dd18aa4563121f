import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ApiError, errorCodes } from './errors.ts';

describe('error codes', () => {
  const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');

  it.each(Object.entries(errorCodes))(
    '%s is documented in docs/errors.md with its status',
    (code, { status }) => {
      expect(doc).toMatch(new RegExp(`\\| \`${code}\` +\\| ${status} +\\|`));
    },
  );

  it('documents no code that is not registered', () => {
    const documented = [...doc.matchAll(/^\| `([A-Z_]+)` +\|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.keys(errorCodes).sort());
  });

  it('carries the registered status', () => {
    expect(new ApiError('PAYLOAD_TOO_LARGE').status).toBe(413);
  });
});
