import { randomUUID } from 'node:crypto';
import type Koa from 'koa';
import type { Registry } from 'prom-client';
import { Counter, Histogram } from 'prom-client';
import { ApiError } from './errors.ts';
import type { Logger } from './logger.ts';

/** Per-request state every handler can rely on. */
export interface RequestState {
  requestId: string;
  /** Route modules may render errors in their protocol's envelope (OCI, npm). */
  renderError?: (err: ApiError) => { status: number; body: unknown; headers?: Record<string, string> };
}

const requestIdPattern = /^[A-Za-z0-9._-]{1,128}$/;

/** Accept a sane incoming `X-Request-Id` (from an ingress) or mint one; echo it back. */
export function requestId(): Koa.Middleware {
  return async (ctx, next) => {
    const incoming = ctx.get('x-request-id');
    const id = requestIdPattern.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = id;
    ctx.set('X-Request-Id', id);
    await next();
  };
}

/**
 * Render every thrown error as JSON. Registered `ApiError`s keep their code and
 * status; anything else becomes a 500 whose message is never echoed (it may
 * name internal hosts or credentials), only logged.
 */
export function errorHandler(logger: Logger): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (thrown) {
      const err = toApiError(thrown);
      if (err.status >= 500) {
        logger.error('request failed', {
          request_id: ctx.state.requestId,
          code: err.code,
          error: describe(thrown),
        });
      }
      if (ctx.headerSent || !ctx.writable) {
        // Streaming already began: the only honest signal left is to abort the connection.
        ctx.req.socket.destroy();
        return;
      }
      const state = ctx.state as RequestState;
      const rendered = state.renderError?.(err) ?? {
        status: err.status,
        body: { code: err.code, error: err.message, detail: err.detail, request_id: state.requestId },
      };
      ctx.status = rendered.status;
      for (const [k, v] of Object.entries({ ...err.headers, ...rendered.headers })) ctx.set(k, v);
      ctx.body = rendered.body;
    }
  };
}

export function toApiError(thrown: unknown): ApiError {
  if (thrown instanceof ApiError) return thrown;
  const status = (thrown as { status?: number })?.status;
  // Koa's own ctx.throw / http-errors for malformed requests
  if (typeof status === 'number' && status >= 400 && status < 500) {
    if (status === 413) return new ApiError('PAYLOAD_TOO_LARGE');
    if (status === 415) return new ApiError('UNSUPPORTED_MEDIA_TYPE');
    return new ApiError('BAD_REQUEST', (thrown as Error).message);
  }
  return new ApiError('INTERNAL', undefined, { cause: thrown });
}

function describe(err: unknown): unknown {
  if (err instanceof ApiError && err.cause) return describe(err.cause);
  if (err instanceof Error) return { name: err.name, message: err.message, stack: err.stack };
  return String(err);
}

/** One structured log line per request, plus HTTP metrics labelled by route template, never by path. */
export function accessLog(opts: { logger: Logger; registry: Registry }): Koa.Middleware {
  const requests = new Counter({
    name: 'orchard_http_requests_total',
    help: 'HTTP requests served, by method, route template and status code.',
    labelNames: ['method', 'route', 'status'],
    registers: [opts.registry],
  });
  const duration = new Histogram({
    name: 'orchard_http_request_duration_seconds',
    help: 'Time to response end, by method and route template.',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
    registers: [opts.registry],
  });
  return async (ctx, next) => {
    const start = process.hrtime.bigint();
    const done = () => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const route = routeLabel(ctx);
      requests.inc({ method: ctx.method, route, status: String(ctx.status) });
      duration.observe({ method: ctx.method, route }, seconds);
      opts.logger.info('request', {
        request_id: ctx.state.requestId,
        method: ctx.method,
        path: ctx.path,
        route,
        status: ctx.status,
        bytes: ctx.response.length,
        duration_ms: Math.round(seconds * 1000),
        remote_addr: ctx.ip,
        user_agent: ctx.get('user-agent') || undefined,
        aborted: !ctx.res.writableFinished || undefined,
      });
    };
    ctx.res.once('close', done);
    await next();
  };
}

function routeLabel(ctx: Koa.Context): string {
  const matched = (ctx as unknown as { _matchedRoute?: string | RegExp })._matchedRoute;
  if (typeof matched === 'string') return matched;
  return matched ? String(matched) : 'unmatched';
}

/**
 * Read a JSON request body with a byte limit (413 beyond it, 415 for a
 * non-JSON content type, 400 for malformed JSON). Small bodies only: uploads
 * stream and never come through here.
 */
export async function readJson<T = unknown>(ctx: Koa.Context, limit = 1024 * 1024): Promise<T> {
  const type = ctx.get('content-type');
  if (type && !/^application\/([\w.+-]*\+)?json\b/i.test(type)) {
    throw new ApiError('UNSUPPORTED_MEDIA_TYPE', 'expected an application/json body');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new ApiError('PAYLOAD_TOO_LARGE', `JSON body exceeds ${limit} bytes`);
    chunks.push(chunk);
  }
  if (size === 0) return {} as T;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as T;
  } catch (err) {
    throw new ApiError('BAD_REQUEST', `malformed JSON body: ${(err as Error).message}`);
  }
}
