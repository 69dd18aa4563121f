/**
 * Why an upstream exchange failed, in the terms stale-on-error and the error
 * codes need:
 * - `network`: connection refused or reset, DNS failure, TLS failure, a body
 *   cut short (the seed's "backend is unreachable");
 * - `timeout`: connect, first byte or body idle time exceeded (also
 *   "unreachable" for stale-on-error);
 * - `protocol`: the upstream answered, but unusably (a redirect loop, a
 *   redirect to a non-HTTP scheme, a body longer than allowed).
 */
export type UpstreamFailureKind = 'network' | 'timeout' | 'protocol';

export class UpstreamError extends Error {
  readonly kind: UpstreamFailureKind;
  /** `remote` names the remote, never a URL with credentials. */
  readonly remote: string;
  constructor(kind: UpstreamFailureKind, message: string, opts: { remote: string; cause?: unknown }) {
    super(message, { cause: opts.cause });
    this.name = 'UpstreamError';
    this.kind = kind;
    this.remote = opts.remote;
  }
}

const timeoutCodes = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);
const protocolCodes = new Set([
  'UND_ERR_HEADERS_OVERFLOW',
  'UND_ERR_RES_EXCEEDED_MAX_SIZE',
  'UND_ERR_INVALID_ARG',
]);

/**
 * Wrap anything thrown by undici (or a body stream) as an UpstreamError. The
 * message keeps undici's description and code but never a URL: undici's
 * messages do not carry one, and callers add only the remote name.
 */
export function toUpstreamError(err: unknown, remote: string): UpstreamError {
  if (err instanceof UpstreamError) return err;
  const code = (err as { code?: string })?.code ?? '';
  const message = (err as Error)?.message ?? String(err);
  const kind: UpstreamFailureKind = timeoutCodes.has(code)
    ? 'timeout'
    : protocolCodes.has(code)
      ? 'protocol'
      : 'network';
  return new UpstreamError(kind, `upstream of remote ${remote}: ${message}${code ? ` (${code})` : ''}`, {
    remote,
    cause: err,
  });
}

/** `origin + pathname` of a URL: no userinfo, no query (it may hold signed tokens), for logs. */
export function safeUrl(url: string | URL): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '[invalid url]';
  }
}
