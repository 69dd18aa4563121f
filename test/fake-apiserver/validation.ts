/**
 * TEST FAKE. The few server-side validations the fake performs, chosen
 * because a client bug would otherwise pass here and fail on a real cluster:
 * - Lease times are metav1.MicroTime, which the real server parses with the
 *   layout 2006-01-02T15:04:05.000000Z07:00 (exactly six fraction digits);
 *   a plain JavaScript Date (three digits) is refused.
 * - ConfigMap/Secret keys must be valid config keys, and Secret data base64.
 */
import type { ResourceType } from './resources.ts';
import { ApiError, invalid } from './status.ts';
import type { KubeObject } from './store.ts';

const microTime = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d)$/;
const configKey = /^[-._a-zA-Z0-9]+$/;

export function validateObject(t: ResourceType, o: KubeObject): void {
  if (t.plural === 'leases') {
    const spec = (o.spec ?? {}) as Record<string, unknown>;
    for (const field of ['acquireTime', 'renewTime']) {
      const v = spec[field];
      if (v !== undefined && v !== null && (typeof v !== 'string' || !microTime.test(v))) {
        throw new ApiError(
          400,
          'BadRequest',
          `Lease in version "v1" cannot be handled as a Lease: parsing time "${String(v)}" as "2006-01-02T15:04:05.000000Z07:00": cannot parse`,
        );
      }
    }
  }
  if (t.plural === 'configmaps' || t.plural === 'secrets') {
    for (const field of ['data', 'stringData', 'binaryData']) {
      for (const key of Object.keys((o[field] ?? {}) as object)) {
        if (!configKey.test(key)) {
          throw invalid(
            t.kind,
            o.metadata.name,
            `${field}[${key}]: Invalid value: "${key}": a valid config key must consist of alphanumeric characters, '-', '_' or '.'`,
          );
        }
      }
    }
  }
  if (t.plural === 'secrets') {
    for (const [key, v] of Object.entries((o.data ?? {}) as Record<string, unknown>)) {
      if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) {
        throw new ApiError(
          400,
          'BadRequest',
          `Secret in version "v1" cannot be handled as a Secret: illegal base64 data at key ${key}`,
        );
      }
    }
  }
}
