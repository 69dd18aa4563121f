/**
 * The reconcile contract (after controller-runtime's reconcile.go).
 *
 * A reconcile function gets a key (`Kind/name`) and drives the world toward
 * what the objects in the watch caches declare. It is level-based: it reads
 * the current state, never the event that caused the call, so it may be
 * called any number of times, for any reason, with the same result.
 *
 * It ends in exactly one of three ways:
 *
 * - **Success** — returns `{}`. Nothing more to do until something changes.
 * - **Requeue after** — returns `{ requeueAfterMs }`. Done for now, but look
 *   again after that long (polling the proxy for status feedback). Not an
 *   error: the failure count is reset.
 * - **Retryable error** — throws any error. The key is retried with
 *   exponential backoff (per key, capped). Use it for conflicts, API server
 *   or proxy failures: anything that may succeed unchanged later.
 * - **Terminal error** — throws `TerminalError`. The spec itself is wrong
 *   (e.g. a reference that can never resolve as written); the reconcile has
 *   already recorded why in a status condition, and retrying cannot help, so
 *   the key is not retried until the object (or something it refers to)
 *   changes and its watch event queues it again.
 */
export interface ReconcileResult {
  requeueAfterMs?: number;
}

export class TerminalError extends Error {
  readonly terminal = true;
  constructor(message: string) {
    super(message);
    this.name = 'TerminalError';
  }
}

export function isTerminal(err: unknown): boolean {
  return err instanceof TerminalError;
}

export const done: ReconcileResult = Object.freeze({});
export const requeueAfter = (ms: number): ReconcileResult => ({ requeueAfterMs: ms });
