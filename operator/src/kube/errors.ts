/** Classify errors from client-node calls (ApiException carries the HTTP status as `code`). */
export function httpStatusOf(err: unknown): number | undefined {
  if (typeof err === 'object' && err !== null) {
    const code =
      (err as { code?: unknown; statusCode?: unknown }).code ?? (err as { statusCode?: unknown }).statusCode;
    if (typeof code === 'number') return code;
  }
  return undefined;
}

export const isNotFound = (err: unknown): boolean => httpStatusOf(err) === 404;
export const isConflict = (err: unknown): boolean => httpStatusOf(err) === 409;

/** A short, secret-free description of a client error, for logs and conditions. */
export function describeError(err: unknown): string {
  const status = httpStatusOf(err);
  const body = (err as { body?: unknown })?.body;
  let message: string | undefined;
  if (
    typeof body === 'object' &&
    body !== null &&
    typeof (body as { message?: unknown }).message === 'string'
  ) {
    message = (body as { message: string }).message;
  } else if (typeof body === 'string') {
    try {
      message = JSON.parse(body).message;
    } catch {
      message = undefined;
    }
  }
  if (status !== undefined) return `HTTP ${status}${message ? `: ${message}` : ''}`;
  return err instanceof Error ? err.message.split('\n')[0] : String(err);
}
