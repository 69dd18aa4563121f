/**
 * Every API error code is registered here once, with its HTTP status and a
 * default message. `docs/errors.md` lists every code; a test keeps the two in
 * step. Handlers throw `ApiError`; the error middleware renders it as
 * `{"error": {"code", "message", "detail"?}, "request_id"}`.
 */
export const errorCodes = {
  BAD_REQUEST: { status: 400, message: 'The request is malformed.' },
  INVALID_PATH: { status: 400, message: 'The path is not allowed (traversal, encoding or length).' },
  INVALID_NAME: { status: 400, message: 'The name does not match the allowed character set or length.' },
  UNAUTHORIZED: { status: 401, message: 'Authentication is required.' },
  FORBIDDEN: { status: 403, message: 'Access to this resource is denied.' },
  PATH_NOT_ALLOWED: { status: 403, message: "The path matches none of the remote's patterns." },
  NOT_FOUND: { status: 404, message: 'The resource does not exist.' },
  REMOTE_NOT_FOUND: { status: 404, message: 'No remote with this name is configured.' },
  QUARANTINED: { status: 404, message: 'The artifact is quarantined because it was published too recently.' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'The method is not allowed on this resource.' },
  CONFLICT: { status: 409, message: 'The resource already exists or was changed concurrently.' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body exceeds the configured limit.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'The request content type is not supported.' },
  RANGE_NOT_SATISFIABLE: { status: 416, message: 'The requested range cannot be served.' },
  DIGEST_MISMATCH: { status: 422, message: 'The content does not match the expected sha256.' },
  VALIDATION_FAILED: { status: 422, message: 'The request body failed validation.' },
  INTERNAL: { status: 500, message: 'An internal error occurred.' },
  UPSTREAM_ERROR: { status: 502, message: 'The upstream answered with an error or an invalid body.' },
  UPSTREAM_INTEGRITY: {
    status: 502,
    message: 'The upstream sent content that does not match its published digest.',
  },
  UPSTREAM_UNREACHABLE: { status: 502, message: 'The upstream could not be reached.' },
  NOT_READY: { status: 503, message: 'A dependency is not ready.' },
  UPSTREAM_TIMEOUT: { status: 504, message: 'The upstream did not answer in time.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof errorCodes;

export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail?: unknown;
  /** Extra response headers, e.g. `Content-Range` on 416. */
  readonly headers?: Record<string, string>;

  constructor(
    code: ErrorCode,
    message?: string,
    opts: { detail?: unknown; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message ?? errorCodes[code].message, { cause: opts.cause });
    this.name = 'ApiError';
    this.code = code;
    this.status = errorCodes[code].status;
    this.detail = opts.detail;
    this.headers = opts.headers;
  }
}
