/** Row shapes as the queries in this folder return them (snake_case, as the API renders them). */
export interface ProjectRow {
  id: string;
  name: string;
  description: string | null;
  is_public: boolean;
  created_by: string;
  created_at: Date;
  updated_at: Date;
  [k: string]: unknown;
}

export interface PackageRow {
  id: string;
  project_id: string;
  name: string;
  description: string | null;
  format: string;
  platform: string;
  created_at: Date;
  updated_at: Date;
  [k: string]: unknown;
}

export interface ArtifactRow {
  id: string;
  size: number;
  content_type: string | null;
  original_name: string | null;
  format_metadata: Record<string, unknown>;
  created_by: string;
  created_at: Date;
  ref_count: number;
  [k: string]: unknown;
}

export interface TagRow {
  id: string;
  package_id: string;
  name: string;
  artifact_id: string;
  created_by: string;
  created_at: Date;
  updated_at: Date;
  [k: string]: unknown;
}

/** Aggregates the package list and detail report. */
export interface PackageStatsRow extends PackageRow {
  tag_count: number;
  artifact_count: number;
  total_size: number;
  latest_tag: string | null;
  latest_upload_at: Date | null;
}

/** PostgreSQL's unique_violation, reported the same by pg and PGlite. */
export function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: string })?.code === '23505';
}

/** Escape `%`, `_` and `\` for a LIKE pattern. */
export function likeEscape(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}
