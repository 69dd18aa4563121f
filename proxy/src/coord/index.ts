import type { Clock } from '../clock.ts';
import type { Logger } from '../http/logger.ts';
import type { Settings } from '../settings.ts';
import type { Coordinator } from './coordinator.ts';
import { MemoryCoordinator } from './memory.ts';

export type { Coordinator, Lock } from './coordinator.ts';
export { MemoryCoordinator, MemoryHub } from './memory.ts';

export interface CoordinatorDeps {
  logger: Logger;
  /** Time for the memory coordinator's TTLs and leases (Redis uses its own clock). */
  clock?: Clock;
}

export type CoordinatorFactory = (settings: Settings, deps: CoordinatorDeps) => Promise<Coordinator>;

const backends = new Map<string, CoordinatorFactory>();

/** Make a backend selectable by name. Registering a name twice replaces the first. */
export function registerCoordinator(name: string, factory: CoordinatorFactory): void {
  backends.set(name, factory);
}

registerCoordinator(
  'memory',
  async (_settings, { logger, clock }) => new MemoryCoordinator({ logger, clock }),
);
registerCoordinator('redis', async (settings, { logger }) => {
  if (!settings.redisUrl) throw new Error('the redis coordinator needs ORCHARD_REDIS_URL');
  // Loaded when selected: ioredis is heap the in-memory default does not need.
  const { RedisCoordinator } = await import('./redis.ts');
  return new RedisCoordinator({ url: settings.redisUrl, logger });
});

/**
 * The coordinator the settings select: Redis when `redisUrl` is set, else in
 * memory. `backend` overrides the choice. Redis connects in the background and
 * reconnects on its own; an unreachable Redis shows up in `ping` (`/ready`),
 * not as a start-up failure.
 */
export async function createCoordinator(
  settings: Settings,
  deps: CoordinatorDeps & { backend?: string },
): Promise<Coordinator> {
  const name = deps.backend ?? (settings.redisUrl ? 'redis' : 'memory');
  const factory = backends.get(name);
  if (!factory)
    throw new Error(`unknown coordinator backend ${name}; known: ${[...backends.keys()].join(', ')}`);
  return factory(settings, { ...deps, logger: deps.logger.child({ component: 'coord' }) });
}
