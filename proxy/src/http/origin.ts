import type Koa from 'koa';

/**
 * The origin clients reach the proxy at (`https://artifacts.example.com`, no
 * trailing slash), used in URLs written into rewritten indexes (npm tarball
 * URLs must be absolute) and API info. `ORCHARD_PUBLIC_URL` fixes it, so that
 * an index cached through one host name (a Service's cluster DNS, a port
 * forward) does not send every later client to that name; without it, the
 * request's own scheme and Host (X-Forwarded-* behind a proxy) are used.
 */
export function publicOrigin(ctx: Koa.Context): string {
  return (ctx.state.publicOrigin as string | undefined) ?? `${ctx.protocol}://${ctx.host}`;
}

/** Middleware that pins `publicOrigin` to the configured URL, when there is one. */
export function pinPublicOrigin(publicUrl: string | undefined): Koa.Middleware {
  const origin = publicUrl?.replace(/\/+$/, '');
  return async (ctx, next) => {
    if (origin) ctx.state.publicOrigin = origin;
    await next();
  };
}
