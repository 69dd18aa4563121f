-- Blob garbage collection (proxy/src/gc/, docs/storage.md "Garbage collection").
--
-- A blob in the content-addressed store is garbage when no row references its
-- sha256: cache_entries, local_files, artifacts, registry_blobs,
-- registry_manifests, registry_manifest_refs. It is deleted only after it has
-- stayed unreferenced for the grace period: the first collection that finds
-- it records it here, a later one past the grace period deletes it.
--
-- Writers that reuse a stored blob without writing it (content-addressed
-- dedup) first delete its row here (`claim`), which waits for a collector
-- holding the row lock mid-delete. So a blob is either claimed before the
-- collector locks it (and kept), or deleted before the writer looks (and
-- written again).
CREATE TABLE gc_candidates (
  digest text COLLATE "C" PRIMARY KEY,
  first_seen timestamptz NOT NULL,
  size bigint NOT NULL,
  CONSTRAINT gc_candidates_digest_check CHECK (digest ~ '^[0-9a-f]{64}$'),
  CONSTRAINT gc_candidates_size_check CHECK (size >= 0)
);
CREATE INDEX gc_candidates_first_seen_idx ON gc_candidates (first_seen);

-- Is a blob the config or a layer of some manifest (the collector's reference check).
CREATE INDEX registry_manifest_refs_ref_idx ON registry_manifest_refs (ref_digest) WHERE kind = 'blob';
-- Repository blob links no manifest of the repository references (the collector's link sweep).
CREATE INDEX registry_blobs_created_idx ON registry_blobs (created_at);
