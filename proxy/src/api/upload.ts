import type { Readable } from 'node:stream';
import type Router from '@koa/router';
import busboy from 'busboy';
import type Koa from 'koa';
import { ApiError } from '../http/errors.ts';
import { actorOf, type HostedDeps, sourceIpOf } from './context.ts';
import { discardStaged, ingest, type StagedBlob, stageBlob, uploadResponse } from './ingest.ts';
import { validateName, validateSha256 } from './names.ts';
import { requirePackage } from './repo/packages.ts';

/** Room for the multipart envelope around the file when checking Content-Length against the limit. */
const ENVELOPE_SLACK = 64 * 1024;

/**
 * `POST /api/v1/project/{project}/{package}/upload`, multipart/form-data with
 * `file` and optional `tag` and `expected_hash` fields (or an
 * `X-Checksum-Sha256` header). The file streams to a temporary blob while the
 * store hashes it; fields may come before or after the file (curl sends them
 * in command-line order), so they are checked once the form has ended.
 */
export function mountUpload(router: Router, deps: HostedDeps): void {
  router.post('/api/v1/project/:project/:package/upload', async (ctx) => {
    const ref = await requirePackage(deps.db, ctx.params.project, ctx.params.package);
    const max = deps.limits.maxUploadBytes;
    if (!ctx.is('multipart/form-data')) {
      throw new ApiError('UNSUPPORTED_MEDIA_TYPE', 'upload expects multipart/form-data with a "file" field');
    }
    const declared = Number(ctx.get('content-length') || 0);
    if (max > 0 && declared > max + ENVELOPE_SLACK) {
      ctx.set('Connection', 'close');
      throw new ApiError('PAYLOAD_TOO_LARGE', `upload exceeds the ${max} byte limit`);
    }
    const headerHash = ctx.get('x-checksum-sha256');
    const expectedHeader = headerHash ? validateSha256(headerHash, 'X-Checksum-Sha256') : undefined;

    const form = await readForm(ctx, deps, expectedHeader);
    const { staged } = form;
    try {
      const tag = form.fields.tag ? validateName('tag', form.fields.tag) : null;
      const expected = form.fields.expected_hash
        ? validateSha256(form.fields.expected_hash, 'expected_hash')
        : undefined;
      if (expected && expected !== staged.sha256) {
        throw new ApiError('DIGEST_MISMATCH', undefined, { detail: { expected, actual: staged.sha256 } });
      }
      const result = await ingest(deps, {
        ref,
        staged,
        filename: form.filename,
        contentType: form.contentType,
        tag,
        actor: actorOf(ctx),
        sourceIp: sourceIpOf(ctx),
        action: 'artifact.upload',
      });
      ctx.body = uploadResponse(ref, result, tag);
    } catch (err) {
      await discardStaged(deps.blobs, staged);
      throw err;
    }
  });
}

interface Form {
  staged: StagedBlob;
  filename: string | null;
  contentType: string | null;
  fields: Record<string, string>;
}

/** Parse the form, staging the one `file` part. Rejects (and drains the body) on any problem. */
function readForm(ctx: Koa.Context, deps: HostedDeps, expectedSha256: string | undefined): Promise<Form> {
  const req = ctx.req;
  return new Promise<Form>((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({
        headers: req.headers,
        // curl, browsers and undici send raw UTF-8 in filename="…"; busboy's default would read it as latin1.
        defParamCharset: 'utf8',
        // Larger buffers than the 64 KiB default halve the per-chunk hops on multi-GiB bodies.
        highWaterMark: 1024 * 1024,
        fileHwm: 1024 * 1024,
        limits: { files: 1, fields: 16, fieldSize: 4096, parts: 32, headerPairs: 64 },
      });
    } catch (err) {
      reject(new ApiError('BAD_REQUEST', `malformed multipart request: ${(err as Error).message}`));
      return;
    }
    const fields: Record<string, string> = {};
    let staging: Promise<StagedBlob> | undefined;
    let file: { filename: string | null; contentType: string | null } | undefined;
    let failed = false;
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      req.unpipe(bb);
      // Drain what the client is still sending so it can read our error; the socket closes after.
      req.resume();
      ctx.set('Connection', 'close');
      if (staging)
        staging.then(
          (s) => discardStaged(deps.blobs, s),
          () => {},
        );
      reject(err);
    };

    bb.on('file', (name: string, stream: Readable, info: busboy.FileInfo) => {
      if (name !== 'file' || staging) {
        stream.resume();
        fail(
          new ApiError(
            'BAD_REQUEST',
            `unexpected file field ${JSON.stringify(name)}; send one field named "file"`,
          ),
        );
        return;
      }
      file = { filename: cleanFilename(info.filename), contentType: info.mimeType || null };
      staging = stageBlob(deps.blobs, stream, { maxBytes: deps.limits.maxUploadBytes, expectedSha256 });
      staging.catch((err) => {
        stream.resume();
        fail(err);
      });
    });
    bb.on('field', (name: string, value: string, info: busboy.FieldInfo) => {
      if (info.valueTruncated) fail(new ApiError('BAD_REQUEST', `form field ${name} is too long`));
      else fields[name] = value;
    });
    bb.on('filesLimit', () =>
      fail(new ApiError('BAD_REQUEST', 'send exactly one file, in the field "file"')),
    );
    bb.on('error', (err: Error) =>
      fail(new ApiError('BAD_REQUEST', `malformed multipart request: ${err.message}`)),
    );
    bb.on('close', async () => {
      if (failed) return;
      if (!staging || !file) {
        fail(new ApiError('BAD_REQUEST', 'multipart field "file" is required'));
        return;
      }
      try {
        resolve({ staged: await staging, ...file, fields });
      } catch (err) {
        fail(err);
      }
    });
    req.on('aborted', () => fail(new ApiError('BAD_REQUEST', 'client aborted the upload')));
    req.pipe(bb);
  });
}

/** Keep the base name only (browsers and curl may send paths), without control characters, at most 255 chars. */
export function cleanFilename(raw: string | undefined): string | null {
  if (!raw) return null;
  const base = raw.split(/[\\/]/).pop() ?? '';
  const cleaned = [...base].filter((c) => c.charCodeAt(0) >= 0x20 && c.charCodeAt(0) !== 0x7f).join('');
  return cleaned.slice(0, 255) || null;
}
