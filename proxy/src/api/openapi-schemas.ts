// Component schemas of the OpenAPI document (openapi.ts), with the seed's examples.
const str = { type: 'string' };
const nullableStr = { type: ['string', 'null'] };
const int = { type: 'integer' };
const time = { type: 'string', format: 'date-time' };
const sha256 = { type: 'string', pattern: '^[0-9a-f]{64}$' };
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const SEED_SHA = 'a3f5d8e12b4c67890abcdef1234567890abcdef1234567890abcdef12345678';

export const schemas: Record<string, unknown> = {
  Error: {
    type: 'object',
    required: ['code', 'error', 'request_id'],
    properties: { code: str, error: str, detail: {}, request_id: str },
    example: { code: 'NOT_FOUND', error: 'project nope not found', request_id: '6f1c…' },
  },
  ProjectCreate: {
    type: 'object',
    required: ['name'],
    properties: {
      name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$' },
      description: nullableStr,
      is_public: { type: 'boolean', default: true },
    },
    example: { name: 'my-project', description: 'My project artifacts', is_public: true },
  },
  Project: {
    type: 'object',
    properties: {
      id: str,
      name: str,
      description: nullableStr,
      is_public: { type: 'boolean' },
      created_by: str,
      created_at: time,
      updated_at: time,
      package_count: { ...int, description: 'Only on GET /projects/{project}.' },
    },
  },
  PackageCreate: {
    type: 'object',
    required: ['name'],
    properties: {
      name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$', not: { const: 'packages' } },
      description: nullableStr,
      format: {
        type: 'string',
        enum: ['generic', 'npm', 'pypi', 'docker', 'deb', 'rpm', 'maven', 'nuget', 'helm', 'alpine'],
        default: 'generic',
      },
      platform: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,63}$', default: 'any' },
    },
    example: { name: 'releases', description: 'Release builds' },
  },
  Package: {
    type: 'object',
    properties: {
      id: str,
      project_id: str,
      name: str,
      description: nullableStr,
      format: str,
      platform: str,
      created_at: time,
      updated_at: time,
      tag_count: int,
      artifact_count: int,
      total_size: int,
      latest_tag: nullableStr,
      latest_upload_at: { type: ['string', 'null'], format: 'date-time' },
    },
  },
  TagSummary: { type: 'object', properties: { name: str, artifact_id: sha256, created_at: time } },
  PackageDetail: {
    allOf: [
      ref('Package'),
      {
        type: 'object',
        properties: {
          recent_tags: { type: 'array', items: ref('TagSummary'), maxItems: 5 },
          tags: { type: 'array', items: ref('TagSummary'), description: 'Only with include_tags=true.' },
        },
      },
    ],
  },
  PackageList: {
    type: 'object',
    properties: {
      items: { type: 'array', items: ref('Package') },
      pagination: {
        type: 'object',
        properties: { page: int, limit: int, total: int, total_pages: int, has_more: { type: 'boolean' } },
      },
    },
  },
  UploadResponse: {
    type: 'object',
    properties: {
      artifact_id: sha256,
      size: int,
      project: str,
      package: str,
      tag: nullableStr,
      format_metadata: { type: 'object', description: 'See docs/api.md; {"error": …} for corrupt archives.' },
      deduplicated: { type: 'boolean' },
      original_name: nullableStr,
      content_type: nullableStr,
    },
    example: {
      artifact_id: SEED_SHA,
      size: 1048576,
      project: 'my-project',
      package: 'releases',
      tag: 'v1.0.0',
      format_metadata: { format: 'tarball', package_name: 'app', version: '1.0.0' },
      deduplicated: false,
    },
  },
  ResumableInit: {
    type: 'object',
    required: ['expected_hash', 'size'],
    properties: { expected_hash: sha256, filename: str, size: int, tag: str, content_type: str },
    example: { expected_hash: SEED_SHA, filename: 'large-file.tar.gz', size: 524288000, tag: 'v2.0.0' },
  },
  ResumableInitResponse: {
    type: 'object',
    properties: {
      upload_id: nullableStr,
      already_exists: { type: 'boolean' },
      chunk_size: int,
      min_part_size: int,
      expires_at: time,
    },
    example: { upload_id: 'abc123', already_exists: false, chunk_size: 10485760 },
  },
  PartResponse: { type: 'object', properties: { upload_id: str, part_number: int, size: int, etag: str } },
  UploadStatus: {
    type: 'object',
    properties: {
      upload_id: str,
      status: { enum: ['pending', 'completing', 'completed', 'aborted', 'expired'] },
      expected_hash: sha256,
      filename: nullableStr,
      size: int,
      tag: nullableStr,
      chunk_size: int,
      uploaded_parts: { type: 'array', items: int },
      parts: { type: 'array', items: { type: 'object' } },
      total_uploaded_bytes: int,
      created_at: time,
      expires_at: time,
    },
  },
  TagCreate: {
    type: 'object',
    required: ['name', 'artifact_id'],
    properties: {
      name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$' },
      artifact_id: sha256,
    },
    example: { name: 'stable', artifact_id: SEED_SHA },
  },
  Tag: {
    type: 'object',
    properties: {
      id: str,
      package_id: str,
      name: str,
      artifact_id: sha256,
      created_by: str,
      created_at: time,
      updated_at: time,
      previous_artifact_id: { ...nullableStr, description: 'Only on POST.' },
    },
  },
  TagHistory: {
    type: 'object',
    properties: {
      id: str,
      tag_id: str,
      old_artifact_id: nullableStr,
      new_artifact_id: sha256,
      changed_by: str,
      changed_at: time,
    },
  },
  Artifact: {
    type: 'object',
    properties: {
      id: sha256,
      sha256,
      size: int,
      content_type: nullableStr,
      original_name: nullableStr,
      format_metadata: { type: 'object' },
      created_by: str,
      created_at: time,
      ref_count: int,
      references: {
        type: 'array',
        items: {
          type: 'object',
          properties: { project: str, package: str, tags: { type: 'array', items: str }, uploads: int },
        },
      },
      tags: {
        type: 'array',
        items: { type: 'object', properties: { project: str, package: str, tag: str } },
      },
    },
  },
  ConsumerCreate: {
    type: 'object',
    required: ['project_url'],
    properties: { project_url: { type: 'string', format: 'uri', maxLength: 2048 } },
    example: { project_url: 'https://git.example.com/team/app' },
  },
  Consumer: {
    type: 'object',
    properties: { id: str, package_id: str, project_url: str, last_access: time, created_at: time },
  },
  DeleteSummary: {
    type: 'object',
    properties: {
      deleted: { type: 'boolean' },
      packages_deleted: int,
      tags_deleted: int,
      artifacts_released: int,
      upload_sessions_aborted: int,
    },
  },
};
