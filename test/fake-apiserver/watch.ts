/**
 * TEST FAKE. One watch stream, as the real API server serves it: HTTP 200,
 * chunked, one JSON `{"type","object"}` per line.
 *
 * - resourceVersion unset or "0": synthetic ADDED for every current object, then changes.
 * - resourceVersion N: every change after N; if N is older than the retained
 *   history, a single ERROR event carrying a 410 Expired Status, then the end
 *   of the stream (the real server does the same, not an HTTP 410).
 * - allowWatchBookmarks=true: a BOOKMARK with the current resourceVersion
 *   every `bookmarkIntervalMs`.
 * - timeoutSeconds: the server ends the stream after that long.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { apiVersionOf, type ResourceType } from './resources.ts';
import { failureStatus } from './status.ts';
import type { KubeObject, ObjectStore, StoredEvent } from './store.ts';

export interface WatchRequest {
  t: ResourceType;
  ns: string | undefined;
  resourceVersion: string | null;
  bookmarks: boolean;
  timeoutSeconds: number | undefined;
  match: (o: KubeObject) => boolean;
  forceGone: boolean;
}

/** A live stream the fault injector can drop or stall. */
export interface ActiveWatch {
  readonly resource: string;
  drop(): void;
  stall(): void;
  readonly stalled: boolean;
}

export function serveWatch(
  store: ObjectStore,
  w: WatchRequest,
  req: IncomingMessage,
  res: ServerResponse,
  bookmarkIntervalMs: number,
): ActiveWatch {
  res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders();
  let stalled = false;
  let closed = false;
  const send = (type: string, object: unknown) => {
    if (!stalled && !closed) res.write(`${JSON.stringify({ type, object })}\n`);
  };
  const typed = (o: KubeObject): KubeObject => ({ ...o, apiVersion: apiVersionOf(w.t), kind: w.t.kind });
  const handle: ActiveWatch = {
    resource: w.t.plural,
    drop: () => {
      cleanup();
      res.destroy();
    },
    stall: () => {
      stalled = true;
    },
    get stalled() {
      return stalled;
    },
  };

  const rv = w.resourceVersion;
  const fromRv = rv === null || rv === '' || rv === '0' ? undefined : Number(rv);
  const backlog = fromRv === undefined ? 'initial' : store.eventsSince(w.t, w.ns, fromRv);
  if (w.forceGone || backlog === 'gone') {
    const status = failureStatus(
      410,
      'Expired',
      `too old resource version: ${rv} (${store.currentResourceVersion()})`,
    );
    res.end(`${JSON.stringify({ type: 'ERROR', object: status })}\n`);
    closed = true;
    return handle;
  }

  const relevant = (e: StoredEvent) =>
    e.resource === w.t && (w.ns === undefined || e.object.metadata.namespace === w.ns) && w.match(e.object);
  const unsubscribe = store.subscribe((e) => {
    if (relevant(e)) send(e.type, typed(e.object));
  });
  if (backlog === 'initial') {
    for (const o of store.list(w.t, w.ns)) if (w.match(o)) send('ADDED', typed(o));
  } else {
    for (const e of backlog) if (relevant(e)) send(e.type, typed(e.object));
  }

  const bookmarkTimer = w.bookmarks
    ? setInterval(() => {
        send('BOOKMARK', {
          apiVersion: apiVersionOf(w.t),
          kind: w.t.kind,
          metadata: { resourceVersion: store.currentResourceVersion() },
        });
      }, bookmarkIntervalMs)
    : undefined;
  const timeoutTimer =
    w.timeoutSeconds !== undefined && w.timeoutSeconds > 0
      ? setTimeout(() => {
          cleanup();
          res.end();
        }, w.timeoutSeconds * 1000)
      : undefined;

  function cleanup() {
    if (closed) return;
    closed = true;
    unsubscribe();
    if (bookmarkTimer) clearInterval(bookmarkTimer);
    if (timeoutTimer) clearTimeout(timeoutTimer);
  }
  req.on('close', cleanup);
  res.on('close', cleanup);
  return handle;
}
