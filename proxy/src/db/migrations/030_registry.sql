-- Hosted OCI repositories: docker Remotes of type local (proxy/src/registry/hosted/).
--
-- Blob and manifest bytes live in the shared content-addressed blob store
-- (blobKey(sha256)), with cached remote files and hosted artifacts, so bytes
-- pushed twice, or pushed after being cached, are stored once. These tables
-- only say which repository holds what. `digest` columns are sha256 hex.

-- Blobs a repository holds (pushed, or mounted from another repository).
-- Pulls and mounts are scoped to the repository, as the distribution spec requires.
CREATE TABLE registry_blobs (
  remote text COLLATE "C" NOT NULL,
  repository text COLLATE "C" NOT NULL,
  digest text COLLATE "C" NOT NULL,
  size bigint NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT registry_blobs_pkey PRIMARY KEY (remote, repository, digest),
  CONSTRAINT registry_blobs_digest_check CHECK (digest ~ '^[0-9a-f]{64}$'),
  CONSTRAINT registry_blobs_size_check CHECK (size >= 0)
);
-- Is a blob still referenced by some repository (garbage collection).
CREATE INDEX registry_blobs_digest_idx ON registry_blobs (digest);

CREATE TABLE registry_manifests (
  remote text COLLATE "C" NOT NULL,
  repository text COLLATE "C" NOT NULL,
  digest text COLLATE "C" NOT NULL,
  media_type text NOT NULL,
  size bigint NOT NULL,
  -- For the referrers API: the manifest's artifactType (or its config's media type),
  -- the digest its `subject` names, and its annotations.
  artifact_type text,
  subject text COLLATE "C",
  annotations jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT registry_manifests_pkey PRIMARY KEY (remote, repository, digest),
  CONSTRAINT registry_manifests_digest_check CHECK (digest ~ '^[0-9a-f]{64}$'),
  CONSTRAINT registry_manifests_subject_check CHECK (subject ~ '^[0-9a-f]{64}$')
);
CREATE INDEX registry_manifests_subject_idx ON registry_manifests (remote, repository, subject)
  WHERE subject IS NOT NULL;
CREATE INDEX registry_manifests_digest_idx ON registry_manifests (digest);

-- What a manifest references: its config and layers (blob), or an index's children (manifest).
CREATE TABLE registry_manifest_refs (
  remote text COLLATE "C" NOT NULL,
  repository text COLLATE "C" NOT NULL,
  digest text COLLATE "C" NOT NULL,
  ref_digest text COLLATE "C" NOT NULL,
  kind text NOT NULL,
  CONSTRAINT registry_manifest_refs_pkey PRIMARY KEY (remote, repository, digest, kind, ref_digest),
  CONSTRAINT registry_manifest_refs_kind_check CHECK (kind IN ('blob', 'manifest')),
  CONSTRAINT registry_manifest_refs_manifest_fkey FOREIGN KEY (remote, repository, digest)
    REFERENCES registry_manifests (remote, repository, digest) ON DELETE CASCADE
);

-- Tags sort in byte order (COLLATE "C"): the spec's lexical order for tags/list.
CREATE TABLE registry_tags (
  remote text COLLATE "C" NOT NULL,
  repository text COLLATE "C" NOT NULL,
  tag text COLLATE "C" NOT NULL,
  digest text COLLATE "C" NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT registry_tags_pkey PRIMARY KEY (remote, repository, tag),
  -- Deleting a manifest deletes the tags that point at it (distribution spec, "Deleting Manifests").
  CONSTRAINT registry_tags_manifest_fkey FOREIGN KEY (remote, repository, digest)
    REFERENCES registry_manifests (remote, repository, digest) ON DELETE CASCADE
);

-- Blob upload sessions (POST /blobs/uploads/). Each accepted chunk is a temporary
-- object in the blob store; `chunks` lists them in order as [{key, size, sha256}].
-- `size` is the bytes received so far: the next chunk must start there. A
-- session is advanced with compare-and-set on `size`, so two replicas can never
-- both append at the same offset.
CREATE TABLE registry_uploads (
  id uuid PRIMARY KEY,
  remote text COLLATE "C" NOT NULL,
  repository text COLLATE "C" NOT NULL,
  size bigint NOT NULL DEFAULT 0,
  chunks jsonb NOT NULL DEFAULT '[]'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX registry_uploads_updated_idx ON registry_uploads (updated_at);
