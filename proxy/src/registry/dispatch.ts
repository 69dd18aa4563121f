import type { RegistryRequest } from './context.ts';
import { OciError } from './errors.ts';
import { listReferrers, listTags } from './hosted/discovery.ts';
import { deleteBlob, deleteManifest, getBlob, getManifest, putManifest } from './hosted/manifests.ts';
import { cancelUpload, finishUpload, getUploadStatus, patchUpload, startUpload } from './hosted/uploads.ts';
import type { V2Operation } from './route.ts';

type Handler = (r: RegistryRequest) => Promise<void>;
type MethodTable = Partial<Record<string, Handler>>;
type NamedOperation = Exclude<V2Operation, { kind: 'base' } | { kind: 'catalog' }>;

/** Handlers of a hosted (`type: local`) docker remote: the spec's pull, push, discovery and management endpoints. */
function hostedTable(op: NamedOperation): MethodTable {
  switch (op.kind) {
    case 'manifest':
      return {
        GET: (r) => getManifest(r, op.reference),
        HEAD: (r) => getManifest(r, op.reference),
        PUT: (r) => putManifest(r, op.reference),
        DELETE: (r) => deleteManifest(r, op.reference),
      };
    case 'blob':
      return {
        GET: (r) => getBlob(r, op.digest),
        HEAD: (r) => getBlob(r, op.digest),
        DELETE: (r) => deleteBlob(r, op.digest),
      };
    case 'upload-start':
      return { POST: startUpload };
    case 'upload':
      return {
        GET: (r) => getUploadStatus(r, op.id),
        PATCH: (r) => patchUpload(r, op.id),
        PUT: (r) => finishUpload(r, op.id),
        DELETE: (r) => cancelUpload(r, op.id),
      };
    case 'tags':
      return { GET: listTags };
    case 'referrers':
      return { GET: (r) => listReferrers(r, op.digest) };
  }
}

/** Handlers of a pull-through (`type: remote`) docker remote: read-only. */
function pullTable(op: NamedOperation): MethodTable {
  switch (op.kind) {
    case 'manifest':
      return {
        GET: (r) => r.deps.pull.manifest(r, op.reference),
        HEAD: (r) => r.deps.pull.manifest(r, op.reference),
      };
    case 'blob':
      return { GET: (r) => r.deps.pull.blob(r, op.digest), HEAD: (r) => r.deps.pull.blob(r, op.digest) };
    case 'tags':
      return { GET: (r) => r.deps.pull.tags(r) };
    case 'referrers':
      // A registry without the referrers API answers 404, so clients fall back to the tag schema.
      return {
        GET: async () => {
          throw new OciError('UNSUPPORTED', 'the referrers API is not served for pull-through remotes', {
            status: 404,
          });
        },
      };
    default:
      return {};
  }
}

/** Run the handler for the request's method, or answer 405 UNSUPPORTED with `Allow`. */
export async function dispatch(r: RegistryRequest, op: NamedOperation): Promise<void> {
  const hosted = r.target.remote.type === 'local';
  const table = hosted ? hostedTable(op) : pullTable(op);
  const handler = table[r.ctx.method];
  if (handler) return handler(r);
  if (r.ctx.method !== 'GET' && r.ctx.method !== 'HEAD') r.ctx.req.resume();
  const allow = Object.keys(table).join(', ');
  const why = hosted
    ? `${r.ctx.method} is not supported here`
    : `remote ${r.target.remote.name} is a pull-through cache; push to a docker remote of type local`;
  throw new OciError('UNSUPPORTED', why, { headers: allow ? { Allow: allow } : {} });
}
