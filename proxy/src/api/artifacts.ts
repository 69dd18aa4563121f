import type Router from '@koa/router';
import { ApiError } from '../http/errors.ts';
import { readJson } from '../http/middleware.ts';
import type { HostedDeps } from './context.ts';
import { sha256Pattern } from './names.ts';
import { artifactReferences, getArtifact } from './repo/artifacts.ts';
import { requirePackage } from './repo/packages.ts';

/** `GET /api/v1/artifact/{id}` and a package's consumers. */
export function mountArtifacts(router: Router, deps: HostedDeps): void {
  const { db } = deps;

  router.get('/api/v1/artifact/:id', async (ctx) => {
    const id = ctx.params.id.toLowerCase();
    if (!sha256Pattern.test(id))
      throw new ApiError('VALIDATION_FAILED', 'artifact id must be a sha256 hex digest');
    const artifact = await getArtifact(db, id);
    if (!artifact) throw new ApiError('NOT_FOUND', `artifact ${id} not found`);
    const references = await artifactReferences(db, id);
    ctx.body = {
      ...artifact,
      sha256: artifact.id,
      references,
      tags: references.flatMap((r) => r.tags.map((tag) => ({ project: r.project, package: r.package, tag }))),
    };
  });

  router.get('/api/v1/project/:project/:package/consumers', async (ctx) => {
    const { pkg } = await requirePackage(db, ctx.params.project, ctx.params.package);
    const { rows } = await db.query(
      'SELECT id, package_id, project_url, last_access, created_at FROM consumers WHERE package_id = $1 ORDER BY last_access DESC',
      [pkg.id],
    );
    ctx.body = rows;
  });

  /**
   * Register (or refresh) a consumer: `{"project_url": "https://…"}`. The same
   * URL registered again only bumps `last_access`. 201 when new, 200 when refreshed.
   */
  router.post('/api/v1/project/:project/:package/consumers', async (ctx) => {
    const { pkg } = await requirePackage(db, ctx.params.project, ctx.params.package);
    const body = await readJson<Record<string, unknown>>(ctx);
    const url = body.project_url;
    if (
      typeof url !== 'string' ||
      url.length === 0 ||
      url.length > 2048 ||
      !/^[a-z][a-z0-9+.-]*:\S+$/i.test(url)
    ) {
      throw new ApiError('VALIDATION_FAILED', 'project_url must be a URL of at most 2048 characters', {
        detail: { field: 'project_url' },
      });
    }
    const { rows } = await db.query<{ inserted: boolean }>(
      `INSERT INTO consumers (package_id, project_url) VALUES ($1, $2)
       ON CONFLICT (package_id, project_url) DO UPDATE SET last_access = now()
       RETURNING id, package_id, project_url, last_access, created_at, (xmax = 0) AS inserted`,
      [pkg.id, url],
    );
    const { inserted, ...consumer } = rows[0];
    ctx.status = inserted ? 201 : 200;
    ctx.body = consumer;
  });
}
