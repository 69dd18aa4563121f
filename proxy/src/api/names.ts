import { ApiError } from '../http/errors.ts';

/**
 * Name rules, documented in docs/api.md. Project and package names follow the
 * Package CRD's pattern (they become custom-resource fields and URL path
 * segments): a letter or digit, then letters, digits, `.`, `_`, `-`, at most
 * 253 characters (a Kubernetes object name). Tags, at most 128 characters,
 * also allow `+` (semver build metadata). Comparison is case-sensitive.
 */
export const namePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;
export const tagPattern = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;
export const sha256Pattern = /^[0-9a-f]{64}$/;

/** `packages` would make `/project/{p}/packages/...` ambiguous with the package-detail routes. */
const reservedPackageNames = new Set(['packages']);

/** Formats a package may declare; the Package CRD's enum. */
export const packageFormats = [
  'generic',
  'npm',
  'pypi',
  'docker',
  'deb',
  'rpm',
  'maven',
  'nuget',
  'helm',
  'alpine',
] as const;
/** Platforms: a lower-case token such as `any`, `linux`, `linux-amd64`, `darwin-arm64` (the CRD's pattern). */
export const platformPattern = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export type NameKind = 'project' | 'package' | 'tag';

/** Throw INVALID_NAME (400) unless `value` is a valid name of this kind. */
export function validateName(kind: NameKind, value: unknown): string {
  const pattern = kind === 'tag' ? tagPattern : namePattern;
  if (typeof value !== 'string' || !pattern.test(value)) {
    throw new ApiError('INVALID_NAME', `invalid ${kind} name ${JSON.stringify(value)}`, {
      detail: { field: kind === 'tag' ? 'tag' : 'name', pattern: pattern.source },
    });
  }
  if (kind === 'package' && reservedPackageNames.has(value)) {
    throw new ApiError('INVALID_NAME', `package name ${JSON.stringify(value)} is reserved`, {
      detail: { field: 'name', reserved: [...reservedPackageNames] },
    });
  }
  return value;
}

/** Throw VALIDATION_FAILED (422) unless `value` is a known format. */
export function validateFormat(value: unknown): string {
  if (typeof value !== 'string' || !(packageFormats as readonly string[]).includes(value)) {
    throw new ApiError('VALIDATION_FAILED', `invalid format ${JSON.stringify(value)}`, {
      detail: { field: 'format', allowed: packageFormats },
    });
  }
  return value;
}

/** Throw VALIDATION_FAILED (422) unless `value` is a platform token. */
export function validatePlatform(value: unknown): string {
  if (typeof value !== 'string' || !platformPattern.test(value)) {
    throw new ApiError('VALIDATION_FAILED', `invalid platform ${JSON.stringify(value)}`, {
      detail: { field: 'platform', pattern: platformPattern.source },
    });
  }
  return value;
}

/** Lower-case a client-supplied sha256 and throw VALIDATION_FAILED unless it is 64 hex digits. */
export function validateSha256(value: unknown, field: string): string {
  const v = typeof value === 'string' ? value.trim().toLowerCase() : value;
  if (typeof v !== 'string' || !sha256Pattern.test(v)) {
    throw new ApiError('VALIDATION_FAILED', `${field} must be a sha256 hex digest (64 hex digits)`, {
      detail: { field },
    });
  }
  return v;
}

/** Optional free text: a string of at most `max` characters, or undefined/null. */
export function optionalText(value: unknown, field: string, max = 1024): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length > max) {
    throw new ApiError('VALIDATION_FAILED', `${field} must be a string of at most ${max} characters`, {
      detail: { field },
    });
  }
  return value;
}
