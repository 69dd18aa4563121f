import type Router from '@koa/router';
import { ApiError } from '../http/errors.ts';
import { readJson } from '../http/middleware.ts';
import { actorOf, type HostedDeps, sourceIpOf } from './context.ts';
import { validateName } from './names.ts';
import { parsePage, queryString } from './query.ts';
import { resolveArtifactId } from './refs.ts';
import { audit, getArtifact } from './repo/artifacts.ts';
import { requirePackage, touchPackage } from './repo/packages.ts';
import { getTag, listTags, setTag, tagHistory } from './repo/tags.ts';

/** `/api/v1/project/{project}/{package}/tags`: list, create or move, and history. */
export function mountTags(router: Router, deps: HostedDeps): void {
  const { db } = deps;

  // A plain array, newest first; page and total in headers as for projects.
  router.get('/api/v1/project/:project/:package/tags', async (ctx) => {
    const { pkg } = await requirePackage(db, ctx.params.project, ctx.params.package);
    const page = parsePage(ctx, { defaultLimit: 100, maxLimit: 1000 });
    const { rows, total } = await listTags(db, pkg.id, {
      search: queryString(ctx, 'search') || undefined,
      ...page,
    });
    ctx.set('X-Total-Count', String(total));
    ctx.body = rows;
  });

  /**
   * Create a tag, or move an existing one (201 when created, 200 when moved
   * or unchanged). Either way tag_history records old → new, who and when.
   */
  router.post('/api/v1/project/:project/:package/tags', async (ctx) => {
    const ref = await requirePackage(db, ctx.params.project, ctx.params.package);
    const body = await readJson<Record<string, unknown>>(ctx);
    const name = validateName('tag', body.name);
    const artifactId = await resolveArtifactId(db, body.artifact_id);
    if (!(await getArtifact(db, artifactId)))
      throw new ApiError('NOT_FOUND', `artifact ${artifactId} not found`);
    const actor = actorOf(ctx);
    const change = await db.transaction(async (tx) => {
      const result = await setTag(tx, { packageId: ref.pkg.id, name, artifactId, actor });
      if (result.changed) {
        await touchPackage(tx, ref.pkg.id);
        await audit(tx, {
          action: result.previous ? 'tag.move' : 'tag.create',
          resource: `project/${ref.project.name}/${ref.pkg.name}/tags/${name}`,
          subject: actor,
          sourceIp: sourceIpOf(ctx),
          details: { old_artifact_id: result.previous, new_artifact_id: artifactId },
        });
      }
      return result;
    });
    ctx.status = change.previous === null ? 201 : 200;
    ctx.body = { ...change.tag, previous_artifact_id: change.previous };
  });

  router.get('/api/v1/project/:project/:package/tags/:tag', async (ctx) => {
    const { pkg } = await requirePackage(db, ctx.params.project, ctx.params.package);
    const tag = await getTag(db, pkg.id, ctx.params.tag);
    if (!tag) throw new ApiError('NOT_FOUND', `tag ${ctx.params.tag} not found`);
    ctx.body = tag;
  });

  router.get('/api/v1/project/:project/:package/tags/:tag/history', async (ctx) => {
    const { pkg } = await requirePackage(db, ctx.params.project, ctx.params.package);
    const tag = await getTag(db, pkg.id, ctx.params.tag);
    if (!tag) throw new ApiError('NOT_FOUND', `tag ${ctx.params.tag} not found`);
    ctx.body = await tagHistory(db, tag.id);
  });
}
