-- The caching engine (proxy/src/cache/).
--
-- fill_token: the coordinator's fencing token of the fill that wrote the row.
-- A leader that lost its lease (paused, partitioned) and commits late carries
-- an older token than the leader that took over, and its write is refused.
ALTER TABLE cache_entries ADD COLUMN fill_token bigint;

-- What formats learn from index documents about the artifacts they list: the
-- published digest (verified while the artifact streams) and the publish date
-- (quarantine, decided before contacting the upstream). Keyed by the
-- artifact's path on the same remote; source_path is the index it came from.
CREATE TABLE cache_hints (
  remote text COLLATE "C" NOT NULL,
  path text COLLATE "C" NOT NULL,
  digest_algorithm text,
  digest text COLLATE "C",
  published_at timestamptz,
  source_path text COLLATE "C" NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT cache_hints_pkey PRIMARY KEY (remote, path),
  CONSTRAINT cache_hints_algorithm_check CHECK (digest_algorithm IN ('sha256', 'sha512', 'sha1')),
  CONSTRAINT cache_hints_digest_check CHECK (digest ~ '^[0-9a-f]{40,128}$'),
  CONSTRAINT cache_hints_digest_pair_check CHECK ((digest IS NULL) = (digest_algorithm IS NULL))
);
