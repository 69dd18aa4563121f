import { ApiError } from '../http/errors.ts';

/**
 * The registry's error codes, registered once: the OCI distribution spec's
 * "Error Codes" table (code-1 … code-15), plus the distribution codes clients
 * also understand (`RANGE_INVALID`, `UNAVAILABLE`, `UNKNOWN`). Rendered as the
 * spec's envelope `{"errors":[{"code","message","detail"}]}`; docs/registry.md
 * lists them all (a test keeps the two in step).
 */
export const ociErrorCodes = {
  BLOB_UNKNOWN: { status: 404, message: 'blob unknown to registry' },
  BLOB_UPLOAD_INVALID: { status: 400, message: 'blob upload invalid' },
  BLOB_UPLOAD_UNKNOWN: { status: 404, message: 'blob upload unknown to registry' },
  DIGEST_INVALID: { status: 400, message: 'provided digest did not match uploaded content' },
  MANIFEST_BLOB_UNKNOWN: {
    status: 400,
    message: 'manifest references a manifest or blob unknown to registry',
  },
  MANIFEST_INVALID: { status: 400, message: 'manifest invalid' },
  MANIFEST_UNKNOWN: { status: 404, message: 'manifest unknown to registry' },
  NAME_INVALID: { status: 400, message: 'invalid repository name' },
  NAME_UNKNOWN: { status: 404, message: 'repository name not known to registry' },
  SIZE_INVALID: { status: 400, message: 'provided length did not match content length' },
  UNAUTHORIZED: { status: 401, message: 'authentication required' },
  DENIED: { status: 403, message: 'requested access to the resource is denied' },
  UNSUPPORTED: { status: 405, message: 'the operation is unsupported' },
  TOOMANYREQUESTS: { status: 429, message: 'too many requests' },
  RANGE_INVALID: { status: 416, message: 'invalid content range' },
  UNAVAILABLE: { status: 503, message: 'service unavailable' },
  UNKNOWN: { status: 500, message: 'unknown error' },
} as const satisfies Record<string, { status: number; message: string }>;

export type OciErrorCode = keyof typeof ociErrorCodes;

/** A registry error. `status` defaults to the code's; some codes have a second status (413, 416, 502). */
export class OciError extends Error {
  readonly code: OciErrorCode;
  readonly status: number;
  readonly detail?: unknown;
  readonly headers?: Record<string, string>;

  constructor(
    code: OciErrorCode,
    message?: string,
    opts: { status?: number; detail?: unknown; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message ?? ociErrorCodes[code].message, { cause: opts.cause });
    this.name = 'OciError';
    this.code = code;
    this.status = opts.status ?? ociErrorCodes[code].status;
    this.detail = opts.detail;
    this.headers = opts.headers;
  }
}

/** What a 404 means where it happened: the object kind the request named. */
export type NotFoundKind = 'blob' | 'manifest' | 'name' | 'upload';

const notFoundCodes: Record<NotFoundKind, OciErrorCode> = {
  blob: 'BLOB_UNKNOWN',
  manifest: 'MANIFEST_UNKNOWN',
  name: 'NAME_UNKNOWN',
  upload: 'BLOB_UPLOAD_UNKNOWN',
};

export function notFound(kind: NotFoundKind, detail?: unknown): OciError {
  return new OciError(notFoundCodes[kind], undefined, { detail });
}

/**
 * Translate anything thrown under `/v2/` into an OciError. The engine and the
 * shared middleware throw ApiErrors; their codes map onto the spec's. 5xx
 * messages of unknown errors are never echoed (they may name internal hosts).
 */
export function toOciError(thrown: unknown, kind: NotFoundKind = 'name'): OciError {
  if (thrown instanceof OciError) return thrown;
  if (!(thrown instanceof ApiError)) return new OciError('UNKNOWN', undefined, { cause: thrown });
  const e = thrown;
  const opts = { detail: e.detail, headers: e.headers, cause: e };
  switch (e.code) {
    case 'NOT_FOUND':
    case 'QUARANTINED':
      return new OciError(notFoundCodes[kind], e.message, opts);
    case 'REMOTE_NOT_FOUND':
      return new OciError('NAME_UNKNOWN', e.message, opts);
    case 'INVALID_PATH':
    case 'INVALID_NAME':
      return new OciError('NAME_INVALID', e.message, opts);
    case 'UNAUTHORIZED':
      return new OciError('UNAUTHORIZED', e.message, opts);
    case 'FORBIDDEN':
    case 'PATH_NOT_ALLOWED':
      return new OciError('DENIED', e.message, opts);
    case 'METHOD_NOT_ALLOWED':
      return new OciError('UNSUPPORTED', e.message, opts);
    case 'PAYLOAD_TOO_LARGE':
      return new OciError('SIZE_INVALID', e.message, { ...opts, status: 413 });
    case 'RANGE_NOT_SATISFIABLE':
      return new OciError('RANGE_INVALID', e.message, opts);
    case 'DIGEST_MISMATCH':
      return new OciError('DIGEST_INVALID', e.message, opts);
    case 'NOT_READY':
      return new OciError('UNAVAILABLE', e.message, opts);
    case 'UPSTREAM_ERROR':
      return upstreamStatusError(e) ?? new OciError('UNKNOWN', e.message, { ...opts, status: e.status });
    case 'UPSTREAM_INTEGRITY':
    case 'UPSTREAM_UNREACHABLE':
    case 'UPSTREAM_TIMEOUT':
      return new OciError('UNKNOWN', e.message, { ...opts, status: e.status });
    case 'INTERNAL':
      return new OciError('UNKNOWN', undefined, opts);
    default:
      return new OciError(e.status >= 500 ? 'UNKNOWN' : 'UNSUPPORTED', e.message, {
        ...opts,
        status: e.status,
      });
  }
}

/**
 * An upstream's refusal, passed on in the registry's terms: 429 stays 429 (so
 * clients back off), and 401/403 after the token flow become DENIED (the
 * client is not the one who has to log in; Docker Hub also answers 401 for
 * repositories that do not exist).
 */
function upstreamStatusError(e: ApiError): OciError | undefined {
  const status = (e.detail as { upstream_status?: number } | undefined)?.upstream_status;
  const opts = { detail: e.detail, cause: e };
  if (status === 429) return new OciError('TOOMANYREQUESTS', e.message, opts);
  if (status === 401 || status === 403) return new OciError('DENIED', e.message, opts);
  return undefined;
}

/** The spec's error envelope. */
export function ociErrorBody(err: OciError): {
  errors: { code: string; message: string; detail?: unknown }[];
} {
  return {
    errors: [
      { code: err.code, message: err.message, ...(err.detail === undefined ? {} : { detail: err.detail }) },
    ],
  };
}
