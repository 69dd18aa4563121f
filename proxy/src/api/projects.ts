import type Router from '@koa/router';
import { ApiError } from '../http/errors.ts';
import { readJson } from '../http/middleware.ts';
import { abortSessions } from './cleanup.ts';
import { isDeclaredProject } from './config-sync.ts';
import { actorOf, type HostedDeps, sourceIpOf } from './context.ts';
import { optionalText, validateName } from './names.ts';
import { paginated, parsePage, queryString } from './query.ts';
import { audit } from './repo/artifacts.ts';
import { deletePackages } from './repo/packages.ts';
import { insertProject, listProjects, requireProject } from './repo/projects.ts';

/** `/api/v1/projects`: list, create, get and delete projects. */
export function mountProjects(router: Router, deps: HostedDeps): void {
  const { db } = deps;

  // A plain array, as the seed returns it; the page and total travel in headers.
  router.get('/api/v1/projects', async (ctx) => {
    const page = parsePage(ctx, { defaultLimit: 100, maxLimit: 1000 });
    const { rows, total } = await listProjects(db, { search: queryString(ctx, 'search'), ...page });
    const envelope = paginated(rows, page, total);
    ctx.set('X-Total-Count', String(total));
    ctx.set('X-Page', String(page.page));
    ctx.set('X-Total-Pages', String(envelope.pagination.total_pages));
    ctx.body = rows;
  });

  router.post('/api/v1/projects', async (ctx) => {
    const body = await readJson<Record<string, unknown>>(ctx);
    const name = validateName('project', body.name);
    const description = optionalText(body.description, 'description');
    if (body.is_public !== undefined && typeof body.is_public !== 'boolean') {
      throw new ApiError('VALIDATION_FAILED', 'is_public must be a boolean', {
        detail: { field: 'is_public' },
      });
    }
    const actor = actorOf(ctx);
    if (isDeclaredProject(deps, name)) {
      // Declared by a Project resource: creating it is a no-op that answers with the row (like apply).
      await deps.configSync?.syncIfChanged();
      const existing = await db.query('SELECT * FROM projects WHERE name = $1', [name]);
      if (existing.rows[0]) {
        ctx.body = existing.rows[0];
        return;
      }
    }
    const project = await db.transaction(async (tx) => {
      const row = await insertProject(tx, {
        name,
        description,
        isPublic: body.is_public !== false,
        createdBy: actor,
      });
      await audit(tx, {
        action: 'project.create',
        resource: `project/${name}`,
        subject: actor,
        sourceIp: sourceIpOf(ctx),
      });
      return row;
    });
    ctx.status = 201;
    ctx.body = project;
  });

  router.get('/api/v1/projects/:project', async (ctx) => {
    const project = await requireProject(db, ctx.params.project);
    const { rows } = await db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM packages WHERE project_id = $1',
      [project.id],
    );
    ctx.body = { ...project, package_count: rows[0].n };
  });

  // The operator's Delete policy calls this; 404 when already gone.
  router.delete('/api/v1/projects/:project', async (ctx) => {
    const actor = actorOf(ctx);
    const name = ctx.params.project;
    const summary = await db.transaction(async (tx) => {
      const project = await requireProject(tx, name);
      const ids = await tx.query<{ id: string }>('SELECT id FROM packages WHERE project_id = $1 FOR UPDATE', [
        project.id,
      ]);
      const result = await deletePackages(
        tx,
        ids.rows.map((r) => r.id),
      );
      await tx.query('DELETE FROM projects WHERE id = $1', [project.id]);
      await audit(tx, {
        action: 'project.delete',
        resource: `project/${name}`,
        subject: actor,
        sourceIp: sourceIpOf(ctx),
        details: { packages: result.packages_deleted, tags: result.tags_deleted },
      });
      return result;
    });
    await abortSessions(deps, summary.sessions);
    const { sessions, ...counts } = summary;
    ctx.body = { project: name, deleted: true, ...counts, upload_sessions_aborted: sessions.length };
  });
}
