/** TEST FAKE. URL routing and small HTTP helpers of the fake API server. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isPlainObject } from './merge-patch.ts';
import { findResourceType, type ResourceType } from './resources.ts';
import { ApiError, badRequest } from './status.ts';
import type { KubeObject } from './store.ts';

export interface Route {
  t: ResourceType;
  ns: string | undefined;
  name: string | undefined;
  sub: string | undefined;
}

export function parseRoute(path: string): Route | undefined {
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api' && parts[1] === 'v1') {
    group = '';
    version = 'v1';
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 3) {
    group = parts[1];
    version = parts[2];
    rest = parts.slice(3);
  } else {
    return undefined;
  }
  let ns: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    ns = rest[1];
    rest = rest.slice(2);
  }
  const t = rest[0] === undefined ? undefined : findResourceType(group, version, rest[0]);
  if (!t || rest.length > 3 || (t.namespaced === false && ns !== undefined)) return undefined;
  if (t.namespaced && ns === undefined && rest.length > 1) return undefined;
  return { t, ns, name: rest[1], sub: rest[2] };
}

export function parseObject(body: string | undefined): KubeObject {
  const o = JSON.parse(body ?? '');
  if (!isPlainObject(o) || !isPlainObject(o.metadata))
    throw badRequest('Object "metadata" is missing or not an object');
  return o as KubeObject;
}

export function invalidPatch(message: string): ApiError {
  return new ApiError(422, 'Invalid', message);
}

export function qualified(t: ResourceType): string {
  return t.group ? `${t.plural}.${t.group}` : t.plural;
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export function isTrue(v: string | null): boolean {
  return v === 'true' || v === '1';
}
