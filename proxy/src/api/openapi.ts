import { schemas } from './openapi-schemas.ts';

// The OpenAPI 3.1 description of the hosted API, served at /openapi.json and
// rendered by /docs. A test checks that every route the API mounts is here.

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown, description = 'OK') => ({
  description,
  content: { 'application/json': { schema } },
});
const errors = (...codes: number[]) =>
  Object.fromEntries(codes.map((c) => [String(c), { $ref: `#/components/responses/Error${c}` }]));
const body = (name: string) => ({ required: true, content: { 'application/json': { schema: ref(name) } } });
const path = (name: string, description: string) => ({
  name,
  in: 'path',
  required: true,
  description,
  schema: { type: 'string' },
});
const query = (name: string, description: string, schema: unknown = { type: 'string' }) => ({
  name,
  in: 'query',
  description,
  schema,
});

const P = path('project', 'Project name');
const K = path('package', 'Package name');
const U = path('upload_id', 'Resumable upload session id');
const page = [
  query('page', 'Page number, from 1', { type: 'integer', minimum: 1, default: 1 }),
  query('limit', 'Items per page', { type: 'integer', minimum: 1 }),
];

const download = (tag: string) => ({
  tags: [tag],
  summary: 'Download an artifact (supports Range)',
  description:
    'ref is a tag (`latest`, `v1.0.0`), `tag:<name>`, `version:<v>` (tag v or v<v>, else extracted metadata version) or `artifact:<sha256>`. ' +
    'Single ranges and suffix ranges (206), 416 with `Content-Range: bytes */size`, If-Range, ETag = "<sha256>", If-None-Match → 304.',
  parameters: [
    P,
    K,
    path('ref', 'Tag, tag:, version: or artifact: reference'),
    { name: 'Range', in: 'header', schema: { type: 'string' }, example: 'bytes=0-1023' },
  ],
  responses: {
    200: { description: 'The artifact', content: { 'application/octet-stream': {} } },
    206: { description: 'The requested range' },
    304: { description: 'Not modified (If-None-Match)' },
    ...errors(404, 416),
  },
});
const head = (tag: string) => ({
  tags: [tag],
  summary: 'Artifact headers without the body',
  description: 'Same headers as GET plus `X-Checksum-Sha256`, `X-Orchard-Format` and `X-Orchard-Metadata-*`.',
  parameters: [P, K, path('ref', 'Tag, tag:, version: or artifact: reference')],
  responses: { 200: { description: 'Headers only' }, ...errors(404) },
});

export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Orchard hosted artifacts API',
      version: '0.1.0',
      description:
        'Projects → packages → content-addressed artifacts, tags, uploads (resumable) and Range downloads. See docs/api.md.',
    },
    paths: {
      '/api/v1/projects': {
        get: {
          tags: ['projects'],
          summary: 'List all projects (an array; X-Total-Count header)',
          parameters: [...page, query('search', 'Substring of name or description')],
          responses: { 200: json({ type: 'array', items: ref('Project') }), ...errors(422) },
        },
        post: {
          tags: ['projects'],
          summary: 'Create a new project',
          requestBody: body('ProjectCreate'),
          responses: { 201: json(ref('Project'), 'Created'), ...errors(400, 409, 422) },
        },
      },
      '/api/v1/projects/{project}': {
        get: {
          tags: ['projects'],
          summary: 'Get project details',
          parameters: [P],
          responses: { 200: json(ref('Project')), ...errors(404) },
        },
        delete: {
          tags: ['projects'],
          summary: 'Delete a project, its packages and tags (blobs are left to garbage collection)',
          parameters: [P],
          responses: { 200: json(ref('DeleteSummary')), ...errors(404) },
        },
      },
      '/api/v1/project/{project}/packages': {
        get: {
          tags: ['packages'],
          summary: 'List packages in a project (paginated, with aggregates)',
          parameters: [
            P,
            ...page,
            query('search', 'Substring of name or description'),
            query('sort', 'Sort key', { enum: ['name', 'created_at', 'updated_at'], default: 'name' }),
            query('order', 'Sort order', { enum: ['asc', 'desc'], default: 'asc' }),
            query('format', 'Only this format'),
            query('platform', 'Only this platform'),
          ],
          responses: { 200: json(ref('PackageList')), ...errors(404, 422) },
        },
        post: {
          tags: ['packages'],
          summary: 'Create a new package',
          parameters: [P],
          requestBody: body('PackageCreate'),
          responses: { 201: json(ref('Package'), 'Created'), ...errors(400, 404, 409, 422) },
        },
      },
      '/api/v1/project/{project}/packages/{package}': {
        get: {
          tags: ['packages'],
          summary: 'Package detail with aggregates and the last 5 tags',
          parameters: [P, K, query('include_tags', 'Also list every tag', { type: 'boolean' })],
          responses: { 200: json(ref('PackageDetail')), ...errors(404) },
        },
        delete: {
          tags: ['packages'],
          summary: 'Delete a package and its tags (releases artifact ref counts)',
          parameters: [P, K],
          responses: { 200: json(ref('DeleteSummary')), ...errors(404) },
        },
      },
      '/api/v1/project/{project}/{package}/upload': {
        post: {
          tags: ['uploads'],
          summary: 'Upload an artifact (multipart form: file, optional tag and expected_hash)',
          parameters: [P, K, { name: 'X-Checksum-Sha256', in: 'header', schema: { type: 'string' } }],
          requestBody: {
            required: true,
            content: {
              'multipart/form-data': {
                schema: {
                  type: 'object',
                  required: ['file'],
                  properties: {
                    file: { type: 'string', format: 'binary' },
                    tag: { type: 'string' },
                    expected_hash: { type: 'string' },
                  },
                },
              },
            },
          },
          responses: { 200: json(ref('UploadResponse')), ...errors(400, 404, 413, 415, 422) },
        },
      },
      '/api/v1/project/{project}/{package}/upload/init': {
        post: {
          tags: ['uploads'],
          summary: 'Initialize resumable upload',
          parameters: [P, K],
          requestBody: body('ResumableInit'),
          responses: {
            200: json(ref('ResumableInitResponse'), 'Already exists: nothing to upload'),
            201: json(ref('ResumableInitResponse'), 'Session created'),
            ...errors(400, 404, 413, 422),
          },
        },
      },
      '/api/v1/project/{project}/{package}/upload/{upload_id}/part/{part_number}': {
        put: {
          tags: ['uploads'],
          summary: 'Upload a part (raw body; any order; re-sending replaces)',
          parameters: [P, K, U, path('part_number', '1..10000')],
          requestBody: { required: true, content: { 'application/octet-stream': {} } },
          responses: { 200: json(ref('PartResponse')), ...errors(404, 409, 413, 422) },
        },
      },
      '/api/v1/project/{project}/{package}/upload/{upload_id}/complete': {
        post: {
          tags: ['uploads'],
          summary: 'Complete upload (verifies sha256 before anything is visible)',
          parameters: [P, K, U],
          requestBody: {
            content: {
              'application/json': {
                schema: { type: 'object', properties: { tag: { type: 'string' } } },
                example: { tag: 'v2.0.0' },
              },
            },
          },
          responses: { 200: json(ref('UploadResponse')), ...errors(404, 409, 422) },
        },
      },
      '/api/v1/project/{project}/{package}/upload/{upload_id}': {
        delete: {
          tags: ['uploads'],
          summary: 'Abort upload',
          parameters: [P, K, U],
          responses: {
            200: json({
              type: 'object',
              properties: { upload_id: { type: 'string' }, status: { const: 'aborted' } },
            }),
            ...errors(404, 409),
          },
        },
      },
      '/api/v1/project/{project}/{package}/upload/{upload_id}/status': {
        get: {
          tags: ['uploads'],
          summary: 'Get upload status',
          parameters: [P, K, U],
          responses: { 200: json(ref('UploadStatus')), ...errors(404) },
        },
      },
      '/api/v1/project/{project}/{package}/+/{ref}': { get: download('downloads'), head: head('downloads') },
      '/project/{project}/{package}/+/{ref}': { get: download('downloads'), head: head('downloads') },
      '/api/v1/project/{project}/{package}/tags': {
        get: {
          tags: ['tags'],
          summary: 'List all tags (newest first)',
          parameters: [P, K, ...page, query('search', 'Substring of the tag name')],
          responses: { 200: json({ type: 'array', items: ref('Tag') }), ...errors(404) },
        },
        post: {
          tags: ['tags'],
          summary: 'Create a tag, or move it (history records old → new)',
          parameters: [P, K],
          requestBody: body('TagCreate'),
          responses: {
            200: json(ref('Tag'), 'Moved or unchanged'),
            201: json(ref('Tag'), 'Created'),
            ...errors(400, 404, 422),
          },
        },
      },
      '/api/v1/project/{project}/{package}/tags/{tag}': {
        get: {
          tags: ['tags'],
          summary: 'Get a tag',
          parameters: [P, K, path('tag', 'Tag name')],
          responses: { 200: json(ref('Tag')), ...errors(404) },
        },
      },
      '/api/v1/project/{project}/{package}/tags/{tag}/history': {
        get: {
          tags: ['tags'],
          summary: 'Tag history (newest first)',
          parameters: [P, K, path('tag', 'Tag name')],
          responses: { 200: json({ type: 'array', items: ref('TagHistory') }), ...errors(404) },
        },
      },
      '/api/v1/project/{project}/{package}/consumers': {
        get: {
          tags: ['consumers'],
          summary: 'List consumers of a package',
          parameters: [P, K],
          responses: { 200: json({ type: 'array', items: ref('Consumer') }), ...errors(404) },
        },
        post: {
          tags: ['consumers'],
          summary: 'Register a consumer (re-registering refreshes last_access)',
          parameters: [P, K],
          requestBody: body('ConsumerCreate'),
          responses: {
            200: json(ref('Consumer'), 'Refreshed'),
            201: json(ref('Consumer'), 'Registered'),
            ...errors(404, 422),
          },
        },
      },
      '/api/v1/artifact/{id}': {
        get: {
          tags: ['artifacts'],
          summary: 'Get artifact metadata by hash, and where it is referenced',
          parameters: [path('id', 'sha256')],
          responses: { 200: json(ref('Artifact')), ...errors(404, 422) },
        },
      },
    },
    components: {
      schemas,
      responses: Object.fromEntries(
        [400, 404, 409, 413, 415, 416, 422].map((c) => [`Error${c}`, json(ref('Error'), `Error ${c}`)]),
      ),
    },
  };
}
