-- The repositories of pull-through (`type: remote`) docker Remotes that Orchard holds something
-- of, for GET /v2/_catalog (proxy/src/registry/catalog.ts). cache_entries has no repository
-- column: listing them from it took a regexp over every cached row per call.
--
-- Written by the registry when it fills or revalidates a manifest, blob or tag list
-- (proxy/src/registry/cached-repositories.ts); a cache flush deletes the rows of the
-- repositories it left without entries (proxy/src/cache/flush.ts). No foreign key to
-- cache_entries (it has no repository to point at): the two agree through those writers.
CREATE TABLE registry_cached_repositories (
  remote text COLLATE "C" NOT NULL,
  repository text COLLATE "C" NOT NULL,
  first_seen timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT registry_cached_repositories_pkey PRIMARY KEY (remote, repository),
  CONSTRAINT registry_cached_repositories_repository_check CHECK (repository <> '')
);

-- An upgraded install lists what it already holds: every cached path of the docker cache shape
-- (`{repository}/manifests/{ref}`, `…/blobs/{digest}`, `…/tags/list`; see dockerCachePath),
-- as the catalog listed them before. The index has no package column, so a matching path of
-- another package type adds a row too; the catalog only asks for docker remotes, and a flush of
-- that remote removes it.
INSERT INTO registry_cached_repositories (remote, repository, first_seen)
SELECT remote, repository, min(created_at)
FROM (
  SELECT remote, regexp_replace(path, '/(manifests/[^/]+|blobs/[^/]+|tags/list)$', '') AS repository, created_at
  FROM cache_entries
  WHERE path ~ './(manifests/[^/]+|blobs/[^/]+|tags/list)$'
) AS cached
GROUP BY remote, repository;
