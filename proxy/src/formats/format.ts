import type { Registry } from 'prom-client';
import type { Clock } from '../clock.ts';
import type { OrchardConfig, RemoteConfig } from '../config/index.ts';
import type { Logger } from '../http/logger.ts';
import type { Upstream } from '../upstream/upstream.ts';

/**
 * A Format owns the protocol details of one package type and nothing else:
 * URL construction and path rules, built-in mutable/immutable rules, index
 * rewriting, expected digests, publish dates and virtual-repo index merging.
 * Caching, storage, locking and metrics live once, in `cache/`.
 *
 * Formats are stateless and pure (no I/O): the cache engine calls them with
 * everything they need. Every hook except `name`, `classify` and `upstreamUrl`
 * is optional; the engine falls back to generic behaviour when one is absent.
 * Register a format with `registerFormat` (see `registry.ts`); adding a package
 * type means adding a folder beside `generic/`, not editing the engine.
 */
export interface Format {
  /** The `package` value of the remotes it serves: `generic`, `npm`, `pypi`, … */
  readonly name: string;

  /**
   * The built-in class of a normalized path, before the remote's own patterns:
   * - `immutable-builtin`: content-addressed (a digest in the path). Always
   *   allowed, even when the remote's `immutablePatterns` do not match it.
   * - `mutable-builtin`: an index the format knows changes (`index.yaml`,
   *   `simple/…`). Always allowed; on expiry it is re-fetched unconditionally.
   * - `undefined`: no opinion; the remote's patterns decide.
   */
  classify(path: string): BuiltinClass | undefined;

  /**
   * The absolute upstream URL for a normalized path. Path segments must be
   * percent-encoded (use `joinUrl` from `registry.ts`). Throws only for a
   * remote without a `baseUrl`, which config validation already rules out.
   */
  upstreamUrl(remote: RemoteConfig, path: string): string;

  /**
   * Map the raw (still percent-encoded) request path before the path guard
   * runs, for protocols whose clients send encodings the guard rejects, e.g.
   * npm's `@scope%2fname`. Must return a raw path; the guard still applies.
   */
  preparePath?(rawPath: string): string;

  /**
   * The cache path of a request whose representation depends on its headers
   * (content negotiation), called with the guarded path and the request's
   * Accept header, e.g. PyPI's PEP 691 JSON vs HTML pages or npm's abbreviated
   * packuments. The result is what the engine classifies, keys, fetches
   * (`upstreamUrl`, `upstreamHeaders`) and rewrites, so each representation is
   * cached separately. Formats mark a variant with a `#name` suffix on the
   * last segment (`simple/foo/#json`); they may also canonicalize names (PEP
   * 503). May throw ApiError (`INVALID_PATH`, `INVALID_NAME`) for a path the
   * protocol rejects. Pure. Absent: the guarded path is the cache path.
   */
  requestPath?(path: string, request: { accept?: string }): string;

  /**
   * Extra headers for the upstream request of a cache path, e.g. the Accept
   * that asks a PyPI index for PEP 691 JSON. Never credentials (those come
   * from the remote's auth). Absent: no extra headers.
   */
  upstreamHeaders?(remote: RemoteConfig, path: string): Record<string, string>;

  /**
   * The cache path of the index whose rewrite publishes the hint (digest,
   * publish date) for an artifact path: an npm tarball's packument, a PyPI
   * file's project page, a helm chart's `index.yaml`. When an immutable
   * artifact is requested and no hint is stored (a lockfile install, or a
   * version newer than the cached index), the engine fills that index first,
   * re-fetching it once even when it is still fresh, so integrity and
   * quarantine apply and a new version is found instead of answering 404.
   * `undefined` when the artifact has no index. Pure.
   */
  hintSource?(path: string): string | undefined;

  /** The digest named by the path itself (OCI `blobs/sha256:…`). */
  digestFromPath?(path: string): ExpectedDigest | undefined;

  /**
   * When the path names an index document that must be rewritten at fill time
   * (so download URLs route back through the proxy) return its handler. The
   * engine buffers the upstream body (at most `maxBytes`), calls `rewrite`
   * ONCE, stores the result and serves the stored bytes on every hit.
   */
  indexHandler?(path: string, contentType: string | undefined): IndexHandler | undefined;

  /**
   * Where to find the published checksum of `path` when neither the path nor
   * a cached index names it, e.g. a generic remote's `.sha256` sidecar. The
   * engine fetches it (small, bounded) just before the artifact; a sidecar the
   * upstream does not have (404) means "no expected digest", not an error.
   */
  checksumSource?(remote: RemoteConfig, path: string): ChecksumSource | undefined;

  /** Upstream response headers worth storing and replaying on hits (lower case), e.g. `docker-content-digest`. */
  readonly keepHeaders?: readonly string[];

  /**
   * Whether an expired built-in mutable path is revalidated with a conditional
   * request (If-None-Match / If-Modified-Since from the stored entry) instead
   * of fetched again unconditionally. Only for content whose ETag identifies
   * it, e.g. docker tag manifests (ETag = digest), which the docker upstream
   * adapter answers with a HEAD that Docker Hub does not count as a pull.
   * Absent or false: built-in mutable paths are always re-fetched.
   */
  conditionalRevalidation?(path: string): boolean;

  /**
   * Whether a mutable path is listed, with its digest, by a parent index whose
   * rewrite stores that digest as the path's hint: an apt Release listing its
   * Packages files, an rpm repomd.xml listing its repodata files. When true
   * and a sha256 hint is stored, a cached copy is fresh exactly while its
   * digest equals the hint, whatever its TTL: a newer parent index makes it
   * stale at once (and the re-fetch is verified against the hint), and an
   * unchanged one keeps it, so clients never get an index that disagrees with
   * the parent they were just served. Without such a hint the TTL applies.
   */
  pinnedByHint?(path: string): boolean;

  /**
   * Wrap the engine's upstream client, once, when the engine is built: a
   * stateful protocol adapter for this format's remotes, e.g. docker's bearer
   * token flow with tokens cached per scope. It must pass the requests of
   * other remotes through unchanged and delegate `close`.
   */
  wrapUpstream?(base: Upstream, env: UpstreamEnv): Upstream;

  /** A Content-Type for a path when the upstream sends none (or a generic one). */
  contentType?(path: string): string | undefined;

  /** Merge member indexes of a virtual repository (first member wins on conflicts). */
  mergeIndexes?(input: MergeInput): Promise<RewriteOutput>;
}

export type BuiltinClass = 'immutable-builtin' | 'mutable-builtin';

export type DigestAlgorithm = 'sha256' | 'sha512' | 'sha1';

/** A digest the upstream published for an artifact. `hex` is lower-case hexadecimal. */
export interface ExpectedDigest {
  algorithm: DigestAlgorithm;
  hex: string;
}

/**
 * What a format learned about one artifact while rewriting an index: its
 * digest and publish date, keyed by the artifact's normalized path on the SAME
 * remote. The engine stores hints and consults them on that path's fill
 * (integrity) and before it (quarantine, without contacting the upstream).
 */
export interface ArtifactHint {
  path: string;
  digest?: ExpectedDigest;
  publishedAt?: Date;
}

export interface ChecksumSource {
  url: string;
  algorithm: DigestAlgorithm;
  /** Extract the hex digest for the artifact from the sidecar body; `undefined` when absent. */
  parse(body: string): string | undefined;
}

export interface IndexHandler {
  /** Largest index body accepted, in bytes; bigger ones fail the fill with UPSTREAM_ERROR. */
  maxBytes: number;
  rewrite(input: RewriteInput): Promise<RewriteOutput>;
}

export interface RewriteInput {
  remote: RemoteConfig;
  path: string;
  body: Buffer;
  contentType?: string;
  /**
   * Absolute URL of this remote on the proxy, without a trailing slash, e.g.
   * `http://orchard.example/api/v1/remote/npm`. Taken from the request that
   * triggered the fill; prefer relative URLs where the client accepts them.
   */
  proxyBase: string;
  /**
   * Present when the remote has quarantine enabled: the index must hide the
   * versions for which it returns true, so clients resolve to allowed ones.
   */
  isQuarantined?: (artifactPath: string, publishedAt: Date | undefined) => boolean;
}

export interface RewriteOutput {
  body: Buffer;
  contentType?: string;
  hints?: ArtifactHint[];
}

export interface MergeInput {
  path: string;
  proxyBase: string;
  /** Member indexes in priority order; members that failed are absent. `proxyBase` is the member remote's own. */
  members: { remote: RemoteConfig; body: Buffer; contentType?: string; proxyBase: string }[];
}

/** What a format's upstream adapter may use (see `Format.wrapUpstream`). */
export interface UpstreamEnv {
  config: { current(): OrchardConfig };
  clock: Clock;
  logger: Logger;
  registry: Registry;
}
