import type Router from '@koa/router';
import type { ProxyDeps, RouteModule } from './app.ts';
import { publicOrigin } from './origin.ts';

const version = '0.1.0';

interface Check {
  ok: boolean;
  backend?: string;
  latency_ms?: number;
  error?: string;
}

/** `/health` (liveness), `/ready` (per-dependency readiness), `/metrics`, `/config` and `/` (API info). */
export const systemRoutes: RouteModule = (router: Router, deps: ProxyDeps) => {
  router.get('/health', (ctx) => {
    ctx.body = { status: 'ok' };
  });

  router.get('/ready', async (ctx) => {
    const checks = await readinessChecks(deps);
    const ok = Object.values(checks).every((c) => c.ok);
    ctx.status = ok ? 200 : 503;
    ctx.body = { status: ok ? 'ready' : 'not ready', checks };
  });

  router.get('/metrics', async (ctx) => {
    ctx.type = deps.registry.contentType;
    ctx.body = await deps.registry.metrics();
  });

  router.get('/config', (ctx) => {
    const s = deps.settings;
    ctx.body = {
      settings: {
        clustered: s.clustered,
        config_path: s.configPath,
        database: s.database
          ? {
              engine: 'postgres',
              host: s.database.host,
              port: s.database.port,
              database: s.database.database,
            }
          : { engine: 'pglite', dir: `${s.dataDir}/pg` },
        blob_store: s.s3
          ? { backend: 's3', endpoint: s.s3.endpoint, region: s.s3.region, bucket: s.s3.bucket }
          : { backend: 'fs', dir: `${s.dataDir}/blobs` },
        coordinator: s.redisUrl
          ? { backend: 'redis', url: stripUserInfo(s.redisUrl) }
          : { backend: 'memory' },
        max_upload_bytes: s.maxUploadBytes,
      },
      config: deps.config.current().redacted(),
      last_reload_error: deps.config.lastError()?.message,
    };
  });

  router.get('/', (ctx) => {
    const cfg = deps.config.current();
    const base = publicOrigin(ctx);
    ctx.body = {
      name: 'Orchard',
      version,
      docs: `${base}/docs`,
      remotes: [...cfg.remotes.values()].map((r) => ({
        name: r.name,
        type: r.type,
        package: r.package,
        description: r.description,
        base_url: r.baseUrl,
        url: `${base}/api/v1/remote/${r.name}/`,
      })),
      virtual_repositories: [...cfg.virtuals.values()].map((v) => ({
        name: v.name,
        package: v.package,
        members: v.members,
        url: `${base}/api/v1/virtual/${v.name}/`,
      })),
    };
  });
};

async function readinessChecks(deps: ProxyDeps): Promise<Record<string, Check>> {
  const timed = async (backend: string, probe: () => Promise<unknown>): Promise<Check> => {
    const start = performance.now();
    try {
      await withTimeout(probe(), 2000);
      return { ok: true, backend, latency_ms: Math.round(performance.now() - start) };
    } catch (err) {
      return { ok: false, backend, error: (err as Error).message };
    }
  };
  const [database, blobStore, coordinator] = await Promise.all([
    timed(deps.db.name, () => deps.db.ping()),
    timed(deps.blobs.name, () => deps.blobs.stat('readiness-probe')),
    timed(deps.coord.name, () => deps.coord.ping()),
  ]);
  const reloadError = deps.config.lastError();
  // A failed reload keeps the last good config serving, so it is reported but
  // does not take the pod out of rotation.
  const config: Check & { digest: string; last_reload_error?: string } = {
    ok: true,
    digest: deps.config.current().digest,
    last_reload_error: reloadError?.message,
  };
  return { database, blob_store: blobStore, coordinator, config };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

function stripUserInfo(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return '[unparseable]';
  }
}
