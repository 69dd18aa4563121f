import type Koa from 'koa';
import { ApiError } from '../http/errors.ts';

export interface Page {
  page: number;
  limit: number;
  offset: number;
}

/** `page` (from 1) and `limit` (1..max) query parameters; VALIDATION_FAILED (422) when malformed. */
export function parsePage(ctx: Koa.Context, opts: { defaultLimit: number; maxLimit: number }): Page {
  const page = intParam(ctx, 'page', 1, 1, 1_000_000);
  const limit = intParam(ctx, 'limit', opts.defaultLimit, 1, opts.maxLimit);
  return { page, limit, offset: (page - 1) * limit };
}

function intParam(ctx: Koa.Context, name: string, dflt: number, min: number, max: number): number {
  const raw = queryString(ctx, name);
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ApiError('VALIDATION_FAILED', `${name} must be an integer from ${min} to ${max}`, {
      detail: { field: name },
    });
  }
  return n;
}

/** A single-valued query parameter (the first when repeated). */
export function queryString(ctx: Koa.Context, name: string): string | undefined {
  const v = ctx.query[name];
  return Array.isArray(v) ? v[0] : v;
}

/** One of `allowed`, or `dflt` when absent; VALIDATION_FAILED (422) otherwise. */
export function enumParam<T extends string>(
  ctx: Koa.Context,
  name: string,
  allowed: readonly T[],
  dflt: T,
): T {
  const raw = queryString(ctx, name);
  if (raw === undefined || raw === '') return dflt;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ApiError('VALIDATION_FAILED', `${name} must be one of ${allowed.join(', ')}`, {
      detail: { field: name, allowed },
    });
  }
  return raw as T;
}

export function boolParam(ctx: Koa.Context, name: string): boolean {
  return /^(1|true|yes)$/i.test(queryString(ctx, name) ?? '');
}

/** The seed's paginated envelope. */
export function paginated<T>(items: T[], page: Page, total: number) {
  const totalPages = Math.max(1, Math.ceil(total / page.limit));
  return {
    items,
    pagination: {
      page: page.page,
      limit: page.limit,
      total,
      total_pages: totalPages,
      has_more: page.page < totalPages,
    },
  };
}
