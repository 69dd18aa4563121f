/**
 * TEST FAKE — NOT A KUBERNETES API SERVER. An in-process HTTP server that
 * speaks enough of the Kubernetes REST and watch protocol for the real
 * @kubernetes/client-node code to run against it. See README.md for what it
 * implements and where it deviates.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseYaml } from 'yaml';
import {
  invalidPatch,
  isTrue,
  parseObject,
  parseRoute,
  qualified,
  type Route,
  readBody,
  send,
} from './http.ts';
import { applyMergePatch, isPlainObject } from './merge-patch.ts';
import { apiVersionOf, type ResourceType, resourceTypes } from './resources.ts';
import { parseFieldSelector, parseLabelSelector } from './selectors.ts';
import { ApiError, badRequest, failureStatus, successStatus } from './status.ts';
import { type KubeObject, ObjectStore } from './store.ts';
import { type ActiveWatch, serveWatch } from './watch.ts';

export interface FakeApiServerOptions {
  /** Watch events kept for resuming watches; older start points get 410. Default 1000. */
  maxHistory?: number;
  /** Interval of BOOKMARK events on watches that allow them. Default 60 s (as the real server's cacher). */
  bookmarkIntervalMs?: number;
  now?: () => number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  contentType: string | undefined;
  status: number;
  watch: boolean;
  /** The bearer token the client sent (tests give each client its own). */
  token: string | undefined;
}

interface RequestFault {
  remaining: number;
  status: number;
  match: (method: string, path: string, token: string | undefined) => boolean;
}

export class FakeApiServer {
  readonly store: ObjectStore;
  /** Every request served, in order; tests count writes with it. */
  readonly requests: RecordedRequest[] = [];
  private readonly server: Server;
  private readonly watches = new Set<ActiveWatch>();
  private readonly bookmarkIntervalMs: number;
  private goneOnNextWatches = 0;
  private readonly requestFaults: RequestFault[] = [];
  private port = 0;

  private constructor(opts: FakeApiServerOptions) {
    this.store = new ObjectStore({ maxHistory: opts.maxHistory, now: opts.now });
    this.bookmarkIntervalMs = opts.bookmarkIntervalMs ?? 60_000;
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err) => this.fail(res, err));
    });
  }

  static async start(opts: FakeApiServerOptions = {}): Promise<FakeApiServer> {
    const s = new FakeApiServer(opts);
    await new Promise<void>((resolve) => s.server.listen(0, '127.0.0.1', resolve));
    s.port = (s.server.address() as AddressInfo).port;
    return s;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The next `count` watch requests answer with a 410 Expired ERROR event. */
  failNextWatchesWithGone(count = 1): void {
    this.goneOnNextWatches += count;
  }

  /** Abruptly close every open watch stream (TCP reset from the client's view). */
  dropWatches(): void {
    for (const w of this.watches) w.drop();
    this.watches.clear();
  }

  /** Keep every open watch stream connected but send nothing more on it (no events, no bookmarks). */
  stallWatches(): void {
    for (const w of this.watches) w.stall();
  }

  /** Answer the next `count` requests (matching `match`, default all; `token` tells clients apart) with `status` (default 500). */
  failNextRequests(
    count: number,
    opts: {
      status?: number;
      match?: (method: string, path: string, token: string | undefined) => boolean;
    } = {},
  ): void {
    this.requestFaults.push({
      remaining: count,
      status: opts.status ?? 500,
      match: opts.match ?? (() => true),
    });
  }

  /** Open watch streams, optionally of one resource plural, that are not stalled. */
  liveWatchCount(plural?: string): number {
    return [...this.watches].filter((w) => !w.stalled && (plural === undefined || w.resource === plural))
      .length;
  }

  resourceType(apiVersion: string, kind: string): ResourceType {
    const t = resourceTypes.find((r) => apiVersionOf(r) === apiVersion && r.kind === kind);
    if (!t) throw new Error(`fake API server does not serve ${apiVersion} ${kind}`);
    return t;
  }

  async close(): Promise<void> {
    this.dropWatches();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    const record: RecordedRequest = {
      method,
      path: url.pathname,
      query: url.searchParams,
      contentType: req.headers['content-type'],
      status: 0,
      watch: isTrue(url.searchParams.get('watch')),
      token: /^Bearer (.*)$/.exec(req.headers.authorization ?? '')?.[1],
    };
    this.requests.push(record);
    res.on('finish', () => {
      record.status = res.statusCode;
    });
    const fault = this.requestFaults.find(
      (f) => f.remaining > 0 && f.match(method, url.pathname, record.token),
    );
    if (fault) {
      fault.remaining -= 1;
      throw new ApiError(fault.status, 'InternalError', 'fake API server: injected failure');
    }
    const route = parseRoute(url.pathname);
    if (!route) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    const body = method === 'GET' || method === 'DELETE' ? undefined : await readBody(req);
    if (method === 'GET' && route.name === undefined) return this.listOrWatch(route, url, req, res, record);
    const result = this.dispatch(method, route, url, body, req.headers['content-type'] ?? '');
    send(res, result.status, result.body);
  }

  private listOrWatch(
    route: Route,
    url: URL,
    req: IncomingMessage,
    res: ServerResponse,
    record: RecordedRequest,
  ) {
    const q = url.searchParams;
    const labels = parseLabelSelector(q.get('labelSelector'));
    const fields = parseFieldSelector(q.get('fieldSelector'));
    const match = (o: KubeObject) => labels(o) && fields(o);
    if (record.watch) {
      const rv = q.get('resourceVersion');
      if (rv && !/^\d+$/.test(rv)) throw badRequest(`invalid resourceVersion: ${rv}`);
      const forceGone = this.goneOnNextWatches > 0;
      if (forceGone) this.goneOnNextWatches -= 1;
      const timeout = q.get('timeoutSeconds');
      const handle = serveWatch(
        this.store,
        {
          t: route.t,
          ns: route.ns,
          resourceVersion: rv,
          bookmarks: isTrue(q.get('allowWatchBookmarks')),
          timeoutSeconds: timeout === null ? undefined : Number(timeout),
          match,
          forceGone,
        },
        req,
        res,
        this.bookmarkIntervalMs,
      );
      this.watches.add(handle);
      res.on('close', () => this.watches.delete(handle));
      return;
    }
    const items = this.store.list(route.t, route.ns).filter(match);
    send(res, 200, {
      apiVersion: apiVersionOf(route.t),
      kind: `${route.t.kind}List`,
      metadata: { resourceVersion: this.store.currentResourceVersion() },
      items: route.t.listItemsTyped ? items : items.map(({ apiVersion: _a, kind: _k, ...rest }) => rest),
    });
  }

  private dispatch(method: string, r: Route, url: URL, body: string | undefined, contentType: string) {
    const { t, name } = r;
    const ns = r.ns ?? '';
    if (r.sub !== undefined && !(r.sub === 'status' && t.statusSubresource)) {
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    }
    const status = r.sub === 'status';
    if (method === 'POST' && name === undefined) {
      return { status: 201, body: this.store.create(t, ns, parseObject(body)) };
    }
    if (name === undefined)
      throw new ApiError(405, 'MethodNotAllowed', `${method} is not supported on a collection`);
    switch (method) {
      case 'GET': {
        const o = this.store.get(t, ns, name);
        if (!o)
          throw new ApiError(404, 'NotFound', `${qualified(t)} "${name}" not found`, {
            name,
            kind: t.plural,
          });
        return { status: 200, body: o };
      }
      case 'PUT':
        return { status: 200, body: this.store.update(t, ns, name, parseObject(body), { status }) };
      case 'PATCH':
        return this.patch(r, ns, name, url, body ?? '', contentType, status);
      case 'DELETE': {
        const { object, removed } = this.store.delete(t, ns, name);
        const out =
          removed && !t.deleteReturnsObject
            ? successStatus({ name, group: t.group, kind: t.plural, uid: object.metadata.uid })
            : object;
        return { status: 200, body: out };
      }
      default:
        throw new ApiError(405, 'MethodNotAllowed', `${method} is not supported`);
    }
  }

  /**
   * merge-patch+json per RFC 7386. apply-patch+yaml is treated as a merge
   * patch that creates a missing object (DEVIATION: no field ownership, so
   * fields a manager stops applying are not removed). strategic-merge-patch is
   * merged the same way for built-in types and refused for custom resources
   * (415), as the real server does.
   */
  private patch(
    r: Route,
    ns: string,
    name: string,
    url: URL,
    body: string,
    contentType: string,
    status: boolean,
  ) {
    const ct = contentType.split(';')[0].trim();
    const { t } = r;
    let patch: unknown;
    if (ct === 'application/apply-patch+yaml') {
      if (!url.searchParams.get('fieldManager')) {
        throw invalidPatch(
          'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
        );
      }
      patch = parseYaml(body);
      if (!this.store.get(t, ns, name)) {
        const obj = patch as KubeObject;
        return {
          status: 201,
          body: this.store.create(t, ns, { ...obj, metadata: { ...obj.metadata, name } }),
        };
      }
    } else if (
      ct === 'application/merge-patch+json' ||
      (ct === 'application/strategic-merge-patch+json' && t.group !== 'orchard.dev')
    ) {
      patch = JSON.parse(body);
    } else {
      throw new ApiError(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: application/merge-patch+json, application/apply-patch+yaml (fake API server; got ${ct})`,
      );
    }
    const old = this.store.get(t, ns, name);
    if (!old)
      throw new ApiError(404, 'NotFound', `${qualified(t)} "${name}" not found`, { name, kind: t.plural });
    if (!isPlainObject(patch)) throw badRequest('patch body must be a JSON object');
    const merged = applyMergePatch(old, patch) as KubeObject;
    // Only a resourceVersion present in the patch itself is a precondition.
    const precondition = (patch.metadata as { resourceVersion?: string } | undefined)?.resourceVersion;
    merged.metadata.resourceVersion = precondition ?? old.metadata.resourceVersion;
    return { status: 200, body: this.store.update(t, ns, name, merged, { status }) };
  }

  private fail(res: ServerResponse, err: unknown): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (err instanceof ApiError) {
      send(res, err.code, failureStatus(err.code, err.reason, err.message, err.details));
    } else if (err instanceof SyntaxError) {
      send(res, 400, failureStatus(400, 'BadRequest', `invalid body: ${err.message}`));
    } else {
      send(res, 500, failureStatus(500, 'InternalError', String(err)));
    }
  }
}
