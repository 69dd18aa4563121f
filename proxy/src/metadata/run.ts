import {
  type ArtifactSource,
  Budget,
  defaultLimits,
  type ExtractContext,
  ExtractError,
  type ExtractLimits,
  type FormatMetadata,
  type MetadataExtractor,
} from './extractor.ts';
import { meteredSource } from './source.ts';

/** Extractors by name. Adding a format means registering one more; nothing else changes. */
export class ExtractorRegistry {
  private readonly byName = new Map<string, MetadataExtractor>();

  register(extractor: MetadataExtractor): this {
    if (this.byName.has(extractor.name))
      throw new Error(`metadata extractor ${extractor.name} registered twice`);
    this.byName.set(extractor.name, extractor);
    return this;
  }

  get(name: string): MetadataExtractor | undefined {
    return this.byName.get(name);
  }

  list(): MetadataExtractor[] {
    return [...this.byName.values()];
  }
}

export interface ExtractOptions {
  registry: ExtractorRegistry;
  declaredFormat?: string;
  limits?: Partial<ExtractLimits>;
}

/** Keeps stored metadata and HEAD headers small whatever an archive claims. */
const MAX_STRING = 1024;
const MAX_ITEMS = 200;
const MAX_DEPTH = 4;
const MAX_JSON = 64 * 1024;

/**
 * Extract format metadata. Never throws: a corrupt or hostile archive, a
 * spent budget or a storage failure yields `{format, error}`; an artifact no
 * extractor claims yields `{}`. Claimants are tried from the strongest claim
 * down until one returns metadata.
 */
export async function extractMetadata(source: ArtifactSource, opts: ExtractOptions): Promise<FormatMetadata> {
  const limits = { ...defaultLimits, ...opts.limits };
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), limits.timeoutMs);
  const budget = new Budget(limits, abort.signal);
  const ctx: ExtractContext = { limits, budget, signal: abort.signal, declaredFormat: opts.declaredFormat };
  const metered = meteredSource(source, ctx);
  let current = '';
  try {
    const head = await metered.read(0, 512);
    const probe = { filename: source.filename.toLowerCase(), declaredFormat: opts.declaredFormat, head };
    const claimants = opts.registry
      .list()
      .map((e) => ({ e, score: e.claim(probe) }))
      .filter((c) => c.score > 0)
      .sort((a, b) => b.score - a.score);
    for (const { e } of claimants) {
      current = e.name;
      const result = await withDeadline(e.extract(metered, ctx), abort.signal, limits.timeoutMs);
      if (result) return { format: e.name, ...bound(result) };
    }
    return {};
  } catch (err) {
    return { ...(current ? { format: current } : {}), error: describeError(err) };
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}

/** Resolve with `work` or reject when the time budget ends, even if `work` is stuck on I/O. */
function withDeadline<T>(work: Promise<T>, signal: AbortSignal, ms: number): Promise<T> {
  if (signal.aborted) return Promise.reject(new ExtractError(`time limit exceeded (${ms} ms)`, 'limit'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new ExtractError(`time limit exceeded (${ms} ms)`, 'limit'));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function describeError(err: unknown): string {
  if (err instanceof ExtractError) return err.message;
  // Storage and zlib errors may carry internal keys or paths: keep only their class of failure.
  const code = (err as NodeJS.ErrnoException)?.code;
  const name = err instanceof Error ? err.name : 'Error';
  return `corrupt or unreadable archive (${code ?? name})`;
}

/** Clamp strings, arrays, object widths and nesting; drop everything but scalars if still too big. */
export function bound(value: FormatMetadata): FormatMetadata {
  const out = clamp(value, 0) as FormatMetadata;
  if (JSON.stringify(out).length <= MAX_JSON) return out;
  const scalars = Object.fromEntries(
    Object.entries(out).filter(([, v]) => typeof v !== 'object' || v === null),
  );
  return { ...scalars, truncated: true };
}

function clamp(v: unknown, depth: number): unknown {
  if (typeof v === 'string') return v.length > MAX_STRING ? `${v.slice(0, MAX_STRING)}…` : v;
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return v;
  if (depth >= MAX_DEPTH || typeof v !== 'object') return undefined;
  if (Array.isArray(v)) return v.slice(0, MAX_ITEMS).map((x) => clamp(x, depth + 1));
  const entries = Object.entries(v as Record<string, unknown>).slice(0, MAX_ITEMS);
  return Object.fromEntries(entries.map(([k, x]) => [k.slice(0, 128), clamp(x, depth + 1)]));
}
