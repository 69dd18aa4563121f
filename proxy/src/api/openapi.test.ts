import Router from '@koa/router';
import { describe, expect, it } from 'vitest';
import type { ProxyDeps } from '../http/app.ts';
import { hostedApi } from './index.ts';
import { openApiDocument } from './openapi.ts';

// Every route the hosted API mounts must be described in /openapi.json, and
// the document must describe nothing the API does not serve.
function mountedRoutes(): Set<string> {
  const router = new Router();
  const deps = { settings: { maxUploadBytes: 0 } } as unknown as ProxyDeps;
  hostedApi({ sweepIntervalMs: 0, configSyncIntervalMs: 0 })(router, deps);
  const out = new Set<string>();
  for (const layer of router.stack) {
    const path = String(layer.path)
      .replace(/\\\+/g, '+')
      .replace(/:([a-z_]+)/g, '{$1}');
    if (path === '/docs' || path === '/openapi.json') continue;
    for (const m of layer.methods) if (m !== 'HEAD' || layer.methods.length === 1) out.add(`${m} ${path}`);
  }
  return out;
}

describe('OpenAPI document', () => {
  it('describes exactly the routes the hosted API mounts', () => {
    const doc = openApiDocument() as { paths: Record<string, Record<string, unknown>> };
    const documented = new Set<string>();
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const method of Object.keys(ops)) documented.add(`${method.toUpperCase()} ${path}`);
    }
    expect([...documented].sort()).toEqual([...mountedRoutes()].sort());
  });

  it('resolves every $ref it uses', () => {
    const doc = openApiDocument();
    const text = JSON.stringify(doc);
    const components = doc.components as Record<string, Record<string, unknown>>;
    for (const [, kind, name] of text.matchAll(/"#\/components\/(\w+)\/(\w+)"/g)) {
      expect(components[kind]?.[name], `${kind}/${name}`).toBeDefined();
    }
  });

  it('carries the seed examples', () => {
    const text = JSON.stringify(openApiDocument());
    expect(text).toContain('"format_metadata":{"format":"tarball","package_name":"app","version":"1.0.0"}');
    expect(text).toContain('"chunk_size":10485760');
    expect(text).toContain('"name":"my-project","description":"My project artifacts","is_public":true');
  });
});
