/** A service started for a test or benchmark run. */
export interface RunningService {
  readonly name: string;
  /** ORCHARD_TEST_* variables that tell suites where the service is. */
  readonly env: Record<string, string>;
  /** Wall time from start to ready, in milliseconds. */
  readonly startupMs: number;
  /**
   * Stops the service (SIGKILL after a grace period) and removes its temporary
   * directory. Safe to call twice. Rejects only if the directory cannot be removed.
   */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Readiness deadline in milliseconds. */
  timeoutMs?: number;
  /** Parent of the service's temporary directory; defaults to the OS temp dir. */
  tmpRoot?: string;
}
