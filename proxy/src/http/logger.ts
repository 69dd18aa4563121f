/**
 * A structured JSON logger: one object per line on the given stream. Small on
 * purpose; Orchard logs one line per request plus lifecycle events. Values
 * under keys that look like credentials are redacted before they are written.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const levels: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

const secretKey = /pass(word)?|secret|token|authorization|api[-_]?key|credential/i;

/** Replace values under credential-like keys with `[redacted]`, recursively. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value instanceof Error) return { name: value.name, message: value.message };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] =
      secretKey.test(k) && v !== undefined && v !== null && v !== '' ? '[redacted]' : redact(v, depth + 1);
  }
  return out;
}

export function createLogger(
  opts: { level?: LogLevel; write?: (line: string) => void; fields?: Record<string, unknown> } = {},
): Logger {
  const min = levels[opts.level ?? 'info'];
  const write = opts.write ?? ((line: string) => process.stdout.write(line));
  const base = opts.fields ?? {};
  const log = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (levels[level] < min) return;
    const entry = redact({ time: new Date().toISOString(), level, msg, ...base, ...fields });
    write(`${JSON.stringify(entry)}\n`);
  };
  return {
    debug: (m, f) => log('debug', m, f),
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
    child: (fields) => createLogger({ ...opts, fields: { ...base, ...fields } }),
  };
}

/** A logger that drops everything; for tests that do not assert on logs. */
export const silentLogger: Logger = createLogger({ write: () => {} });
