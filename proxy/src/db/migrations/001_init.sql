-- Orchard's core schema. Runs unchanged on PostgreSQL (15+) and PGlite; see docs/database.md.
-- Conventions: uuid keys from gen_random_uuid() (built in since PostgreSQL 13); timestamps are
-- timestamptz; actors are free text ('anonymous' when unauthenticated); sha256 digests are 64
-- lowercase hex characters; names and paths that are compared or prefix-matched use COLLATE "C"
-- so ordering is bytewise and LIKE 'prefix%' can use the index, whatever the cluster's locale.

-- Hosted artifacts: projects > packages > tags -> artifacts (content-addressed, shared).

CREATE TABLE projects (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text COLLATE "C" NOT NULL,
  description text,
  is_public boolean NOT NULL DEFAULT true,
  created_by text NOT NULL DEFAULT 'anonymous',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT projects_name_key UNIQUE (name),
  CONSTRAINT projects_name_check CHECK (name <> '')
);
CREATE INDEX projects_created_at_idx ON projects (created_at);

CREATE TABLE packages (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  name text COLLATE "C" NOT NULL,
  description text,
  -- Validated by the API (generic, npm, pypi, docker, deb, rpm, helm, ...); no CHECK so a new
  -- format needs no migration.
  format text NOT NULL DEFAULT 'generic',
  platform text NOT NULL DEFAULT 'any',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT packages_project_name_key UNIQUE (project_id, name),
  CONSTRAINT packages_name_check CHECK (name <> '')
);
-- List packages of a project sorted by name (the unique index), created_at or updated_at,
-- filtered by format or platform.
CREATE INDEX packages_project_created_idx ON packages (project_id, created_at);
CREATE INDEX packages_project_updated_idx ON packages (project_id, updated_at);
CREATE INDEX packages_project_format_idx ON packages (project_id, format);
CREATE INDEX packages_project_platform_idx ON packages (project_id, platform);

CREATE TABLE artifacts (
  id text COLLATE "C" PRIMARY KEY,
  size bigint NOT NULL,
  content_type text,
  original_name text,
  format_metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_by text NOT NULL DEFAULT 'anonymous',
  created_at timestamptz NOT NULL DEFAULT now(),
  -- Maintained by the application, not by triggers: the number of tags pointing here.
  ref_count integer NOT NULL DEFAULT 0,
  CONSTRAINT artifacts_id_check CHECK (id ~ '^[0-9a-f]{64}$'),
  CONSTRAINT artifacts_size_check CHECK (size >= 0),
  CONSTRAINT artifacts_ref_count_check CHECK (ref_count >= 0)
);
-- Garbage collection looks for unreferenced artifacts, oldest first.
CREATE INDEX artifacts_unreferenced_idx ON artifacts (created_at) WHERE ref_count = 0;

CREATE TABLE tags (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  package_id uuid NOT NULL REFERENCES packages (id) ON DELETE CASCADE,
  name text COLLATE "C" NOT NULL,
  -- An artifact cannot disappear while a tag points at it. NO ACTION rather than RESTRICT:
  -- same effect, and the same error code (23503) on PostgreSQL 15 and 18 (PGlite), whereas
  -- RESTRICT reports 23001 from 18 on.
  artifact_id text COLLATE "C" NOT NULL REFERENCES artifacts (id) ON DELETE NO ACTION,
  created_by text NOT NULL DEFAULT 'anonymous',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT tags_package_name_key UNIQUE (package_id, name),
  CONSTRAINT tags_name_check CHECK (name <> '')
);
CREATE INDEX tags_artifact_idx ON tags (artifact_id);
-- Latest tag / recent tags of a package.
CREATE INDEX tags_package_created_idx ON tags (package_id, created_at);

-- An audit record: no foreign keys to artifacts, which garbage collection may remove later.
CREATE TABLE tag_history (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tag_id uuid NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
  old_artifact_id text COLLATE "C",
  new_artifact_id text COLLATE "C" NOT NULL,
  changed_by text NOT NULL DEFAULT 'anonymous',
  changed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tag_history_tag_idx ON tag_history (tag_id, changed_at);

CREATE TABLE uploads (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  -- CASCADE: removing an artifact (garbage collection) removes its upload events.
  artifact_id text COLLATE "C" NOT NULL REFERENCES artifacts (id) ON DELETE CASCADE,
  package_id uuid NOT NULL REFERENCES packages (id) ON DELETE CASCADE,
  original_name text,
  size bigint NOT NULL,
  tag text,
  uploaded_by text NOT NULL DEFAULT 'anonymous',
  uploaded_at timestamptz NOT NULL DEFAULT now(),
  deduplicated boolean NOT NULL DEFAULT false,
  source_ip text,
  CONSTRAINT uploads_size_check CHECK (size >= 0)
);
-- Latest upload of a package; uploads of an artifact.
CREATE INDEX uploads_package_time_idx ON uploads (package_id, uploaded_at);
CREATE INDEX uploads_artifact_idx ON uploads (artifact_id);

CREATE TABLE consumers (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  package_id uuid NOT NULL REFERENCES packages (id) ON DELETE CASCADE,
  project_url text NOT NULL,
  last_access timestamptz NOT NULL DEFAULT now(),
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT consumers_package_url_key UNIQUE (package_id, project_url)
);

-- Access control.

CREATE TABLE access_permissions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  subject text NOT NULL,
  role text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz,
  CONSTRAINT access_permissions_project_subject_key UNIQUE (project_id, subject),
  CONSTRAINT access_permissions_role_check CHECK (role IN ('read', 'write', 'admin'))
);
CREATE INDEX access_permissions_subject_idx ON access_permissions (subject);

CREATE TABLE api_keys (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  -- Only a hash of the key is stored; the key itself is shown once, at creation.
  key_hash text NOT NULL,
  name text NOT NULL,
  subject text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz,
  last_used_at timestamptz,
  CONSTRAINT api_keys_key_hash_key UNIQUE (key_hash)
);
CREATE INDEX api_keys_subject_idx ON api_keys (subject);

-- Append-only operation log.
CREATE TABLE audit_logs (
  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  action text NOT NULL,
  resource text NOT NULL,
  subject text NOT NULL DEFAULT 'anonymous',
  details jsonb NOT NULL DEFAULT '{}'::jsonb,
  "timestamp" timestamptz NOT NULL DEFAULT now(),
  source_ip text
);
CREATE INDEX audit_logs_timestamp_idx ON audit_logs ("timestamp");
CREATE INDEX audit_logs_resource_idx ON audit_logs (resource, "timestamp");

-- The cache index: what a remote's path resolved to when it was fetched. The bytes live in the
-- blob store under blobKey(digest); mutable TTL and negative-cache state live in the coordinator.
-- Flushing deletes rows here and never touches local_files.
CREATE TABLE cache_entries (
  remote text COLLATE "C" NOT NULL,
  path text COLLATE "C" NOT NULL,
  digest text COLLATE "C" NOT NULL,
  size bigint NOT NULL,
  content_type text,
  -- Upstream validators, verbatim, for conditional revalidation.
  etag text,
  last_modified text,
  -- Where it came from, without credentials or userinfo.
  upstream_url text,
  -- Upstream response headers worth replaying (Docker-Content-Digest, media type, ...).
  headers jsonb NOT NULL DEFAULT '{}'::jsonb,
  mutable boolean NOT NULL DEFAULT false,
  -- When the upstream published it (quarantine); NULL when unknown.
  published_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- Last fetch or successful revalidation.
  fetched_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT cache_entries_pkey PRIMARY KEY (remote, path),
  CONSTRAINT cache_entries_digest_check CHECK (digest ~ '^[0-9a-f]{64}$'),
  CONSTRAINT cache_entries_size_check CHECK (size >= 0)
);
-- Is a blob still referenced (garbage collection); oldest entries (eviction, stats).
CREATE INDEX cache_entries_digest_idx ON cache_entries (digest);
CREATE INDEX cache_entries_fetched_idx ON cache_entries (fetched_at);

-- Files stored in `type: local` remotes. Kept apart from cache_entries so no cache flush or
-- eviction can ever delete hosted content.
CREATE TABLE local_files (
  remote text COLLATE "C" NOT NULL,
  path text COLLATE "C" NOT NULL,
  digest text COLLATE "C" NOT NULL,
  size bigint NOT NULL,
  content_type text,
  created_by text NOT NULL DEFAULT 'anonymous',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT local_files_pkey PRIMARY KEY (remote, path),
  CONSTRAINT local_files_digest_check CHECK (digest ~ '^[0-9a-f]{64}$'),
  CONSTRAINT local_files_size_check CHECK (size >= 0)
);
CREATE INDEX local_files_digest_idx ON local_files (digest);

-- Resumable uploads: one session per init, backed by a blob store multipart session.
CREATE TABLE upload_sessions (
  id text COLLATE "C" PRIMARY KEY,
  project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  package_id uuid NOT NULL REFERENCES packages (id) ON DELETE CASCADE,
  -- Blob store key and multipart upload id the parts go to.
  blob_key text NOT NULL,
  multipart_upload_id text,
  expected_hash text COLLATE "C" NOT NULL,
  filename text,
  content_type text,
  size bigint NOT NULL,
  tag text,
  status text NOT NULL DEFAULT 'pending',
  created_by text NOT NULL DEFAULT 'anonymous',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  CONSTRAINT upload_sessions_expected_hash_check CHECK (expected_hash ~ '^[0-9a-f]{64}$'),
  CONSTRAINT upload_sessions_size_check CHECK (size >= 0),
  CONSTRAINT upload_sessions_status_check
    CHECK (status IN ('pending', 'completing', 'completed', 'aborted', 'expired'))
);
CREATE INDEX upload_sessions_package_idx ON upload_sessions (package_id);
-- The sweeper: pending sessions past their expiry.
CREATE INDEX upload_sessions_expiry_idx ON upload_sessions (expires_at) WHERE status = 'pending';

CREATE TABLE upload_parts (
  session_id text COLLATE "C" NOT NULL REFERENCES upload_sessions (id) ON DELETE CASCADE,
  part_number integer NOT NULL,
  size bigint NOT NULL,
  etag text NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT upload_parts_pkey PRIMARY KEY (session_id, part_number),
  CONSTRAINT upload_parts_part_number_check CHECK (part_number BETWEEN 1 AND 10000),
  CONSTRAINT upload_parts_size_check CHECK (size >= 0)
);
