import type Router from '@koa/router';
import { docsPage } from './docs-page.ts';
import { openApiDocument } from './openapi.ts';

/** `GET /openapi.json` (the OpenAPI 3.1 document) and `GET /docs` (an interactive page that reads it). */
export function mountDocs(router: Router): void {
  const json = JSON.stringify(openApiDocument());
  router.get('/openapi.json', (ctx) => {
    ctx.type = 'application/json';
    ctx.body = json;
  });
  router.get('/docs', (ctx) => {
    ctx.type = 'text/html; charset=utf-8';
    ctx.set(
      'Content-Security-Policy',
      "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'",
    );
    ctx.body = docsPage;
  });
}
