import { startPostgres } from './postgres.ts';
import { startRedis } from './redis.ts';
import { startS3 } from './s3.ts';
import type { RunningService, StartOptions } from './types.ts';

export type { RunningService, StartOptions } from './types.ts';

const STARTERS = {
  postgres: { start: startPostgres, envVar: 'ORCHARD_TEST_DATABASE_URL', prefix: 'ORCHARD_TEST_DATABASE_' },
  redis: { start: startRedis, envVar: 'ORCHARD_TEST_REDIS_URL', prefix: 'ORCHARD_TEST_REDIS_' },
  s3: { start: startS3, envVar: 'ORCHARD_TEST_S3_ENDPOINT', prefix: 'ORCHARD_TEST_S3_' },
} as const;

export type ServiceName = keyof typeof STARTERS;
export const SERVICE_NAMES = Object.keys(STARTERS) as ServiceName[];

export interface Services {
  /** Every ORCHARD_TEST_* variable of the started (and reused) services. */
  env: Record<string, string>;
  services: RunningService[];
  /** Stops all services concurrently. Safe to call twice; never rejects. */
  stop(): Promise<void>;
}

export interface StartServicesOptions extends StartOptions {
  /** One line per service as it becomes ready (default: stderr). */
  log?: (msg: string) => void;
  /**
   * An environment to reuse services from: a service whose main variable (e.g.
   * ORCHARD_TEST_REDIS_URL) is already set there is not started. Its variables are
   * passed on unchanged.
   */
  reuse?: NodeJS.ProcessEnv;
}

/**
 * Starts the named services concurrently and waits until all are ready. If any fails
 * to start, the others are stopped and the first error is thrown.
 */
export async function startServices(
  names: ServiceName[],
  opts: StartServicesOptions = {},
): Promise<Services> {
  const log = opts.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const env: Record<string, string> = {};
  const toStart: ServiceName[] = [];
  for (const name of names) {
    const reused = opts.reuse?.[STARTERS[name].envVar];
    if (reused) {
      log(`${name.padEnd(8)} reusing ${STARTERS[name].envVar} from the environment`);
      for (const [k, v] of Object.entries(opts.reuse ?? {})) {
        if (k.startsWith(STARTERS[name].prefix) && v) env[k] = v;
      }
    } else toStart.push(name);
  }
  const results = await Promise.allSettled(
    toStart.map(async (name) => {
      const svc = await STARTERS[name].start(opts);
      log(`${name.padEnd(8)} ready in ${String(svc.startupMs).padStart(5)} ms  ${Object.values(svc.env)[0]}`);
      return svc;
    }),
  );
  const services = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const stop = async () => {
    await Promise.all(services.map((s) => s.stop().catch((err) => log(`${s.name}: stop failed: ${err}`))));
  };
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) {
    await stop();
    throw failed.reason;
  }
  for (const s of services) Object.assign(env, s.env);
  let stopping: Promise<void> | undefined;
  return { env, services, stop: () => (stopping ??= stop()) };
}
