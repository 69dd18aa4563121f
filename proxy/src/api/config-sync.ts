import type { Queryable } from '../db/database.ts';
import type { HostedDeps } from './context.ts';
import { namePattern, platformPattern } from './names.ts';
import { isShutDown } from './sweeper.ts';

/**
 * Materialise the Project and Package custom resources of the live config as
 * rows, so CRs and API-created entities are served alike and the operator can
 * read package stats back. Create or update only: a resource that leaves the
 * config keeps its rows (deletionPolicy Retain); the operator calls the
 * DELETE endpoints for Delete. Each project's `access` list replaces its
 * access_permissions rows. Idempotent and safe on several replicas at once
 * (upserts in one transaction).
 */
export class ConfigSync {
  private readonly deps: HostedDeps;
  private lastDigest: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<boolean> | undefined;

  constructor(deps: HostedDeps) {
    this.deps = deps;
  }

  /** Sync when the config changed since the last successful sync. Returns whether it synced. */
  async syncIfChanged(): Promise<boolean> {
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Check for a new config every `intervalMs` until `stop`; the timer never keeps the process alive. */
  start(intervalMs: number): void {
    if (this.timer) return;
    const tick = () =>
      this.syncIfChanged().catch((err) => {
        if (isShutDown(err)) this.stop();
        else this.deps.logger.warn('project/package config sync failed', { error: (err as Error).message });
      });
    void tick();
    this.timer = setInterval(tick, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async run(): Promise<boolean> {
    const config = this.deps.config.current();
    if (!config?.projects || config.digest === this.lastDigest) return false;
    const projects = [...config.projects.values()].filter((p) => this.usable('project', p.name));
    const packages = [...config.packages.values()].filter(
      (p) => this.usable('package', p.name) && p.name !== 'packages' && platformPattern.test(p.platform),
    );
    if (projects.length > 0 || packages.length > 0) {
      await this.deps.db.transaction(async (tx) => {
        for (const p of projects) await upsertProject(tx, p);
        for (const p of packages) await upsertPackage(tx, p);
      });
    }
    this.lastDigest = config.digest;
    return true;
  }

  private usable(kind: string, name: string): boolean {
    if (namePattern.test(name)) return true;
    this.deps.logger.warn(`configured ${kind} name is not a valid API name; skipped`, { name });
    return false;
  }
}

interface ProjectSpec {
  name: string;
  description: string;
  isPublic: boolean;
  access: readonly { subject: string; role: string }[];
}

async function upsertProject(tx: Queryable, p: ProjectSpec): Promise<void> {
  const { rows } = await tx.query<{ id: string }>(
    `INSERT INTO projects (name, description, is_public, created_by) VALUES ($1, $2, $3, 'config')
     ON CONFLICT (name) DO UPDATE SET description = EXCLUDED.description, is_public = EXCLUDED.is_public,
       updated_at = now()
       WHERE (projects.description, projects.is_public) IS DISTINCT FROM (EXCLUDED.description, EXCLUDED.is_public)
     RETURNING id`,
    [p.name, p.description || null, p.isPublic],
  );
  const id =
    rows[0]?.id ??
    (await tx.query<{ id: string }>('SELECT id FROM projects WHERE name = $1', [p.name])).rows[0].id;
  const subjects = p.access.map((a) => a.subject);
  await tx.query('DELETE FROM access_permissions WHERE project_id = $1 AND NOT (subject = ANY($2::text[]))', [
    id,
    subjects,
  ]);
  for (const a of p.access) {
    await tx.query(
      `INSERT INTO access_permissions (project_id, subject, role) VALUES ($1, $2, $3)
       ON CONFLICT (project_id, subject) DO UPDATE SET role = EXCLUDED.role`,
      [id, a.subject, a.role],
    );
  }
}

interface PackageSpec {
  project: string;
  name: string;
  description: string;
  format: string;
  platform: string;
}

async function upsertPackage(tx: Queryable, p: PackageSpec): Promise<void> {
  await tx.query(
    `INSERT INTO packages (project_id, name, description, format, platform)
     SELECT id, $2, $3, $4, $5 FROM projects WHERE name = $1
     ON CONFLICT (project_id, name) DO UPDATE SET description = EXCLUDED.description, format = EXCLUDED.format,
       platform = EXCLUDED.platform, updated_at = now()
       WHERE (packages.description, packages.format, packages.platform)
             IS DISTINCT FROM (EXCLUDED.description, EXCLUDED.format, EXCLUDED.platform)`,
    [p.project, p.name, p.description || null, p.format, p.platform],
  );
}

/** True when the live config declares this project (a Project resource). */
export function isDeclaredProject(deps: HostedDeps, name: string): boolean {
  return deps.config.current()?.projects?.has(name) ?? false;
}

/** True when the live config declares this package (a Package resource). */
export function isDeclaredPackage(deps: HostedDeps, project: string, name: string): boolean {
  const packages = deps.config.current()?.packages;
  if (!packages) return false;
  for (const p of packages.values()) if (p.project === project && p.name === name) return true;
  return false;
}
