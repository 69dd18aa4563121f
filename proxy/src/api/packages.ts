import type Router from '@koa/router';
import { readJson } from '../http/middleware.ts';
import { abortSessions } from './cleanup.ts';
import { isDeclaredPackage } from './config-sync.ts';
import { actorOf, type HostedDeps, sourceIpOf } from './context.ts';
import { optionalText, validateFormat, validateName, validatePlatform } from './names.ts';
import { boolParam, enumParam, paginated, parsePage, queryString } from './query.ts';
import { audit } from './repo/artifacts.ts';
import {
  deletePackages,
  insertPackage,
  listPackages,
  packageStats,
  requirePackage,
} from './repo/packages.ts';
import { requireProject } from './repo/projects.ts';
import type { TagRow } from './repo/rows.ts';
import { listTags, recentTags } from './repo/tags.ts';

const sorts = ['name', 'created_at', 'updated_at'] as const;
const orders = ['asc', 'desc'] as const;

/** `/api/v1/project/{project}/packages[/{package}]`: list, create, detail and delete packages. */
export function mountPackages(router: Router, deps: HostedDeps): void {
  const { db } = deps;

  router.get('/api/v1/project/:project/packages', async (ctx) => {
    const project = await requireProject(db, ctx.params.project);
    const page = parsePage(ctx, { defaultLimit: 20, maxLimit: 100 });
    const format = queryString(ctx, 'format');
    const platform = queryString(ctx, 'platform');
    const { rows, total } = await listPackages(db, {
      projectId: project.id,
      search: queryString(ctx, 'search') || undefined,
      format: format ? validateFormat(format) : undefined,
      platform: platform ? validatePlatform(platform) : undefined,
      sort: enumParam(ctx, 'sort', sorts, 'name'),
      order: enumParam(ctx, 'order', orders, 'asc'),
      ...page,
    });
    ctx.body = paginated(rows, page, total);
  });

  router.post('/api/v1/project/:project/packages', async (ctx) => {
    const project = await requireProject(db, ctx.params.project);
    const body = await readJson<Record<string, unknown>>(ctx);
    const name = validateName('package', body.name);
    const actor = actorOf(ctx);
    if (isDeclaredPackage(deps, project.name, name)) {
      // Declared by a Package resource: creating it is a no-op that answers with the row (like apply).
      await deps.configSync?.syncIfChanged();
      const existing = await db.query<{ id: string }>(
        'SELECT id FROM packages WHERE project_id = $1 AND name = $2',
        [project.id, name],
      );
      if (existing.rows[0]) {
        ctx.body = await packageStats(db, existing.rows[0].id);
        return;
      }
    }
    const pkg = await db.transaction(async (tx) => {
      const row = await insertPackage(tx, {
        projectId: project.id,
        name,
        description: optionalText(body.description, 'description'),
        format: body.format === undefined ? 'generic' : validateFormat(body.format),
        platform: body.platform === undefined ? 'any' : validatePlatform(body.platform),
      });
      await audit(tx, {
        action: 'package.create',
        resource: `project/${project.name}/${name}`,
        subject: actor,
        sourceIp: sourceIpOf(ctx),
      });
      return row;
    });
    ctx.status = 201;
    ctx.body = await packageStats(db, pkg.id);
  });

  router.get('/api/v1/project/:project/packages/:package', async (ctx) => {
    const { pkg } = await requirePackage(db, ctx.params.project, ctx.params.package);
    const stats = await packageStats(db, pkg.id);
    const detail: Record<string, unknown> = {
      ...stats,
      recent_tags: (await recentTags(db, pkg.id, 5)).map(tagSummary),
    };
    if (boolParam(ctx, 'include_tags')) {
      const all = await listTags(db, pkg.id, { limit: 10_000, offset: 0 });
      detail.tags = all.rows.map(tagSummary);
    }
    ctx.body = detail;
  });

  // The operator's Delete policy calls this; 404 when already gone.
  router.delete('/api/v1/project/:project/packages/:package', async (ctx) => {
    const actor = actorOf(ctx);
    const summary = await db.transaction(async (tx) => {
      const { project, pkg } = await requirePackage(tx, ctx.params.project, ctx.params.package);
      const result = await deletePackages(tx, [pkg.id]);
      await audit(tx, {
        action: 'package.delete',
        resource: `project/${project.name}/${pkg.name}`,
        subject: actor,
        sourceIp: sourceIpOf(ctx),
        details: { tags: result.tags_deleted, artifacts_released: result.artifacts_released },
      });
      return result;
    });
    await abortSessions(deps, summary.sessions);
    const { sessions, packages_deleted: _, ...counts } = summary;
    ctx.body = {
      project: ctx.params.project,
      package: ctx.params.package,
      deleted: true,
      ...counts,
      upload_sessions_aborted: sessions.length,
    };
  });
}

export function tagSummary(t: TagRow) {
  return { name: t.name, artifact_id: t.artifact_id, created_at: t.created_at };
}
