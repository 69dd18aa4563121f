/**
 * Hot reload. Watches the directories the config was read from (not the
 * files: a mounted ConfigMap is updated by swapping its `..data` symlink, which
 * replaces every file at once) with fs.watch, debounced, plus a slow poll that
 * re-reads the files in case an event was missed (network filesystems,
 * watchers that died with a deleted directory).
 *
 * A reload happens only when the bytes read changed. A config that does not
 * validate keeps the last good one serving: lastError() reports it, onError is
 * called, a warning is logged and orchard_config_reload_failures_total counts it.
 */
import { type FSWatcher, watch } from 'node:fs';
import { Counter, Gauge, type Registry } from 'prom-client';
import { type Clock, systemClock } from '../clock.ts';
import type { Logger } from '../http/logger.ts';
import { readConfig } from './load.ts';
import type { ConfigError, OrchardConfig } from './types.ts';

export interface ConfigWatcherOptions {
  path: string;
  logger: Logger;
  /** Called after each successful reload (not for the initial load), with the new config. */
  onReload?: (cfg: OrchardConfig) => void;
  /** Called when changed files do not validate; the previous config stays current. */
  onError?: (err: ConfigError) => void;
  /** Registers orchard_config_reloads_total, orchard_config_reload_failures_total and
   * orchard_config_last_reload_success_timestamp_seconds. */
  registry?: Registry;
  clock?: Clock;
  crdDir?: string;
  /** Quiet period after a filesystem event before reloading. Default 200 ms. */
  debounceMs?: number;
  /** Re-read interval independent of events; 0 disables polling. Default 10 s. */
  pollIntervalMs?: number;
  /** Use fs.watch (default true); false relies on polling alone. */
  useFsWatch?: boolean;
}

export type ReloadOutcome = 'unchanged' | 'reloaded' | 'failed';

export class ConfigWatcher {
  private readonly opts: ConfigWatcherOptions;
  private readonly clock: Clock;
  private readonly metrics?: { reloads: Counter; failures: Counter; lastSuccess: Gauge };
  private config?: OrchardConfig;
  private error?: ConfigError;
  private fingerprint?: string;
  private watchers = new Map<string, FSWatcher>();
  private watchDirs: string[] = [];
  private debounce?: NodeJS.Timeout;
  private poll?: NodeJS.Timeout;
  private running?: Promise<ReloadOutcome>;
  private again = false;
  private stopped = false;

  constructor(opts: ConfigWatcherOptions) {
    this.opts = opts;
    this.clock = opts.clock ?? systemClock;
    if (opts.registry) {
      const registers = [opts.registry];
      this.metrics = {
        reloads: new Counter({
          name: 'orchard_config_reloads_total',
          help: 'Successful config loads, the initial one included.',
          registers,
        }),
        failures: new Counter({
          name: 'orchard_config_reload_failures_total',
          help: 'Config loads that failed validation; the last good config kept serving.',
          registers,
        }),
        lastSuccess: new Gauge({
          name: 'orchard_config_last_reload_success_timestamp_seconds',
          help: 'Unix time of the last successful config load.',
          registers,
        }),
      };
    }
  }

  /** Load the config and start watching. Rejects with ConfigError when the initial config is invalid. */
  async start(): Promise<OrchardConfig> {
    const outcome = await this.reload();
    if (outcome === 'failed' && !this.config) {
      this.stop();
      throw this.error;
    }
    if (this.opts.pollIntervalMs !== 0) {
      this.poll = setInterval(() => void this.reload(), this.opts.pollIntervalMs ?? 10_000);
      this.poll.unref();
    }
    return this.config!;
  }

  /** Stop watching and polling. current() keeps returning the last good config. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.debounce);
    clearInterval(this.poll);
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }

  /** The last good config. Throws before start() has succeeded. */
  current(): OrchardConfig {
    if (!this.config) throw new Error('config not loaded yet');
    return this.config;
  }

  /** The failure of the last load attempt, or undefined when the current files are the ones serving. */
  lastError(): ConfigError | undefined {
    return this.error;
  }

  /** Re-read now. Concurrent calls coalesce: at most one read runs, and one more follows it. */
  reload(): Promise<ReloadOutcome> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.readOnce().finally(() => {
      this.running = undefined;
      if (this.again && !this.stopped) {
        this.again = false;
        void this.reload();
      }
    });
    return this.running;
  }

  private async readOnce(): Promise<ReloadOutcome> {
    const r = await readConfig(this.opts.path, { crdDir: this.opts.crdDir });
    this.watchDirs = r.watchDirs;
    if (!this.stopped) this.arm();
    if (r.fingerprint === this.fingerprint) return 'unchanged';
    this.fingerprint = r.fingerprint;
    const log = this.opts.logger;
    if (r.error) {
      this.error = r.error;
      this.metrics?.failures.inc();
      log.warn('config rejected; the last good config keeps serving', {
        path: this.opts.path,
        issues: r.error.issues.slice(0, 20),
        serving_digest: this.config?.digest,
      });
      if (this.config) this.opts.onError?.(r.error);
      return 'failed';
    }
    const initial = !this.config;
    this.config = r.config!;
    this.error = undefined;
    this.metrics?.reloads.inc();
    this.metrics?.lastSuccess.set(this.clock.now() / 1000);
    log.info(initial ? 'config loaded' : 'config reloaded', {
      path: this.opts.path,
      digest: this.config.digest,
      remotes: this.config.remotes.size,
      virtual_repositories: this.config.virtuals.size,
      projects: this.config.projects.size,
      packages: this.config.packages.size,
      warnings: this.config.warnings.slice(0, 20),
    });
    if (!initial) this.opts.onReload?.(this.config);
    return 'reloaded';
  }

  /** Watch every directory the last read depended on; drop watchers of directories no longer involved. */
  private arm(): void {
    if (this.opts.useFsWatch === false) return;
    for (const [dir, w] of this.watchers) {
      if (!this.watchDirs.includes(dir)) {
        w.close();
        this.watchers.delete(dir);
      }
    }
    for (const dir of this.watchDirs) {
      if (this.watchers.has(dir)) continue;
      try {
        const w = watch(dir, { persistent: false }, () => this.schedule());
        // A deleted directory ends its watcher; the poll notices and re-arms.
        w.on('error', () => {
          w.close();
          this.watchers.delete(dir);
        });
        this.watchers.set(dir, w);
      } catch {
        // Missing directory: the poll keeps trying.
      }
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.reload(), this.opts.debounceMs ?? 200);
    this.debounce.unref();
  }
}
