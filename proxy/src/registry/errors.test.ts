import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ApiError, type ErrorCode, errorCodes } from '../http/errors.ts';
import { OciError, ociErrorBody, ociErrorCodes, toOciError } from './errors.ts';

describe('registry error codes', () => {
  const doc = readFileSync(new URL('../../../docs/registry.md', import.meta.url), 'utf8');

  it.each(Object.keys(ociErrorCodes))('%s is documented in docs/registry.md', (code) => {
    expect(doc).toContain(`\`${code}\``);
  });

  it('renders the spec envelope', () => {
    const err = new OciError('BLOB_UNKNOWN', undefined, { detail: { digest: 'sha256:x' } });
    expect(err.status).toBe(404);
    expect(ociErrorBody(err)).toEqual({
      errors: [{ code: 'BLOB_UNKNOWN', message: 'blob unknown to registry', detail: { digest: 'sha256:x' } }],
    });
  });

  it.each(Object.keys(errorCodes) as ErrorCode[])(
    'maps ApiError %s to a registry code with a sensible status',
    (code) => {
      const mapped = toOciError(new ApiError(code), 'manifest');
      expect(Object.keys(ociErrorCodes)).toContain(mapped.code);
      expect(Math.floor(mapped.status / 100)).toBe(Math.floor(errorCodes[code].status / 100));
    },
  );

  it('uses the kind of object requested for a 404', () => {
    expect(toOciError(new ApiError('NOT_FOUND'), 'blob').code).toBe('BLOB_UNKNOWN');
    expect(toOciError(new ApiError('NOT_FOUND'), 'manifest').code).toBe('MANIFEST_UNKNOWN');
    expect(toOciError(new ApiError('QUARANTINED'), 'manifest').code).toBe('MANIFEST_UNKNOWN');
  });

  it('passes an upstream 429 on as TOOMANYREQUESTS and an upstream 401 as DENIED', () => {
    const e429 = toOciError(new ApiError('UPSTREAM_ERROR', 'x', { detail: { upstream_status: 429 } }));
    expect([e429.code, e429.status]).toEqual(['TOOMANYREQUESTS', 429]);
    const e401 = toOciError(new ApiError('UPSTREAM_ERROR', 'x', { detail: { upstream_status: 401 } }));
    expect([e401.code, e401.status]).toEqual(['DENIED', 403]);
  });

  it('never echoes the message of an unexpected error', () => {
    const err = toOciError(new Error('connect ECONNREFUSED internal-db.svc:5432'));
    expect(err.code).toBe('UNKNOWN');
    expect(err.message).not.toContain('internal-db');
  });
});
