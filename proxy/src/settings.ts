/**
 * Runtime settings from `ORCHARD_*` environment variables (the seed's table,
 * extended). An absent setting selects the embedded default: PGlite, the
 * filesystem blob store and in-process coordination.
 */
export interface Settings {
  host: string;
  port: number;
  /** File or directory of CR-shaped YAML or a seed `remotes.yaml`. */
  configPath: string;
  dataDir: string;
  clustered: boolean;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  database?: { host: string; port: number; user: string; password?: string; database: string; ssl: boolean };
  s3?: {
    endpoint?: string;
    region: string;
    bucket: string;
    accessKeyId?: string;
    secretAccessKey?: string;
    forcePathStyle: boolean;
  };
  redisUrl?: string;
  /** Largest accepted upload in bytes (0 = unlimited). */
  maxUploadBytes: number;
  shutdownGraceMs: number;
  /** Origin clients use to reach the proxy, for URLs in rewritten indexes; absent = each request's Host. */
  publicUrl?: string;
  /** Blob garbage collection: how often (0 = only on demand) and how long new content is protected. */
  blobGc: { intervalMs: number; graceMs: number };
}

export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const s3Endpoint = env.ORCHARD_S3_ENDPOINT;
  const s3Bucket = env.ORCHARD_S3_BUCKET;
  return {
    host: env.ORCHARD_SERVER_HOST ?? '0.0.0.0',
    port: int(env.ORCHARD_SERVER_PORT, 8080),
    configPath: env.ORCHARD_CONFIG ?? 'config/samples',
    dataDir: env.ORCHARD_DATA_DIR ?? './data',
    clustered: bool(env.ORCHARD_CLUSTERED, false),
    logLevel: (env.ORCHARD_LOG_LEVEL as Settings['logLevel']) ?? 'info',
    database: env.ORCHARD_DATABASE_HOST
      ? {
          host: env.ORCHARD_DATABASE_HOST,
          port: int(env.ORCHARD_DATABASE_PORT, 5432),
          user: env.ORCHARD_DATABASE_USER ?? 'orchard',
          password: env.ORCHARD_DATABASE_PASSWORD,
          database: env.ORCHARD_DATABASE_DBNAME ?? 'orchard',
          ssl: bool(env.ORCHARD_DATABASE_SSL, false),
        }
      : undefined,
    s3:
      s3Endpoint || s3Bucket
        ? {
            endpoint: s3Endpoint,
            region: env.ORCHARD_S3_REGION ?? 'us-east-1',
            bucket: s3Bucket ?? 'orchard-artifacts',
            accessKeyId: env.ORCHARD_S3_ACCESS_KEY_ID,
            secretAccessKey: env.ORCHARD_S3_SECRET_ACCESS_KEY,
            forcePathStyle: bool(env.ORCHARD_S3_FORCE_PATH_STYLE, true),
          }
        : undefined,
    redisUrl: env.ORCHARD_REDIS_URL,
    maxUploadBytes: int(env.ORCHARD_MAX_UPLOAD_BYTES, 0),
    shutdownGraceMs: int(env.ORCHARD_SHUTDOWN_GRACE_MS, 25_000),
    publicUrl: publicUrl(env.ORCHARD_PUBLIC_URL),
    blobGc: {
      intervalMs: int(env.ORCHARD_BLOB_GC_INTERVAL_SECONDS, 6 * 3600) * 1000,
      graceMs: int(env.ORCHARD_BLOB_GC_GRACE_SECONDS, 24 * 3600) * 1000,
    },
  };
}

function publicUrl(v: string | undefined): string | undefined {
  if (!v) return undefined;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new Error(`ORCHARD_PUBLIC_URL is not a URL: ${JSON.stringify(v)}`);
  }
  if (!/^https?:$/.test(u.protocol) || u.username || u.password || u.search || u.hash || u.pathname !== '/') {
    throw new Error('ORCHARD_PUBLIC_URL must be an http(s) origin such as https://artifacts.example.com');
  }
  return u.origin;
}

function int(v: string | undefined, dflt: number): number {
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`expected a non-negative integer, got ${JSON.stringify(v)}`);
  return n;
}

function bool(v: string | undefined, dflt: boolean): boolean {
  if (v === undefined || v === '') return dflt;
  return /^(1|true|yes|on)$/i.test(v);
}

/** Names of the embedded backends in use; clustered mode refuses to start on any of them. */
export function embeddedBackends(s: Settings): string[] {
  const out: string[] = [];
  if (!s.database) out.push('database (PGlite; set ORCHARD_DATABASE_HOST)');
  if (!s.s3) out.push('blob store (filesystem; set ORCHARD_S3_ENDPOINT/ORCHARD_S3_BUCKET)');
  if (!s.redisUrl) out.push('coordinator (in-memory; set ORCHARD_REDIS_URL)');
  return out;
}
