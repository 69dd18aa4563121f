// Every curl example of the seed README (reference/orchard-seed.txt), run as
// written by the real curl against the real entry point (`npm start`: a child
// process on embedded defaults with config/samples). Only the host/port and the
// placeholders the README elides (hashes, upload id, sizes) are substituted.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tar } from '../../proxy/src/metadata/test-archives.ts';
import { freePort, startProcess, type TestProcess, tmpDir } from '../harness/index.ts';

const root = join(import.meta.dirname, '../..');
const run = promisify(execFile);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let proc: TestProcess;
let work: string;
let port: number;
const app = gzipSync(tar([{ path: 'app/bin/app', body: '#!/bin/sh\necho app v1\n' }]));
const chunk1 = Buffer.alloc(3 * 1024 * 1024 + 17, 7);

/** Run one README command line (with its `\` continuations) in the work dir; stdout as text. */
async function curl(command: string, subst: Record<string, string> = {}): Promise<string> {
  let cmd = command.replaceAll('http://localhost:8080', `http://127.0.0.1:${port}`);
  for (const [from, to] of Object.entries(subst)) cmd = cmd.replaceAll(from, to);
  const { stdout } = await run('bash', ['-c', cmd], {
    cwd: work,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

beforeAll(async () => {
  work = await tmpDir('seed-curl');
  await mkdir(join(work, 'build'));
  await writeFile(join(work, 'build/app-v1.0.0.tar.gz'), app);
  await writeFile(join(work, 'chunk1.bin'), chunk1);
  port = await freePort();
  proc = await startProcess({
    cmd: process.execPath,
    args: [join(root, 'proxy/src/main.ts')],
    cwd: work,
    env: {
      ...process.env,
      ORCHARD_SERVER_HOST: '127.0.0.1',
      ORCHARD_SERVER_PORT: String(port),
      ORCHARD_CONFIG: join(root, 'config/samples'),
      ORCHARD_DATA_DIR: join(work, 'data'),
    },
    readyWhen: /orchard proxy listening/,
    timeoutMs: 60_000,
  });
}, 90_000);
afterAll(async () => {
  await proc?.stop();
  await rm(work, { recursive: true, force: true });
});

describe('the seed README examples, with curl', () => {
  it('Create a Project', async () => {
    const out = await curl(`curl -X POST http://localhost:8080/api/v1/projects \\
-H "Content-Type: application/json" \\
-d '{"name": "my-project", "description": "My project artifacts", "is_public": true}'`);
    expect(JSON.parse(out)).toMatchObject({
      name: 'my-project',
      description: 'My project artifacts',
      is_public: true,
    });
  });

  it('Create a Package', async () => {
    const out = await curl(`curl -X POST http://localhost:8080/api/v1/project/my-project/packages \\
-H "Content-Type: application/json" \\
-d '{"name": "releases", "description": "Release builds"}'`);
    expect(JSON.parse(out)).toMatchObject({ name: 'releases', description: 'Release builds' });
  });

  it('Upload an Artifact', async () => {
    const out = await curl(`curl -X POST http://localhost:8080/api/v1/project/my-project/releases/upload \\
-F "file=@./build/app-v1.0.0.tar.gz" \\
-F "tag=v1.0.0"`);
    expect(JSON.parse(out)).toMatchObject({
      artifact_id: sha(app),
      size: app.length,
      project: 'my-project',
      package: 'releases',
      tag: 'v1.0.0',
      format_metadata: { format: 'tarball', package_name: 'app', version: '1.0.0' },
      deduplicated: false,
    });
  });

  it('Resumable Upload (for large files): init, part, complete', async () => {
    const subst = {
      a3f5d8e12b4c67890abcdef1234567890abcdef1234567890abcdef12345678: sha(chunk1),
      '"size": 524288000': `"size": ${chunk1.length}`,
    };
    const init = JSON.parse(
      await curl(
        `curl -X POST http://localhost:8080/api/v1/project/my-project/releases/upload/init \\
-H "Content-Type: application/json" \\
-d '{
"expected_hash": "a3f5d8e12b4c67890abcdef1234567890abcdef1234567890abcdef12345678",
"filename": "large-file.tar.gz",
"size": 524288000,
"tag": "v2.0.0"
}'`,
        subst,
      ),
    );
    expect(init).toMatchObject({
      upload_id: expect.any(String),
      already_exists: false,
      chunk_size: 10485760,
    });
    const id = { abc123: init.upload_id };
    const part = await curl(
      `curl -X PUT http://localhost:8080/api/v1/project/my-project/releases/upload/abc123/part/1 \\
--data-binary @chunk1.bin`,
      id,
    );
    expect(JSON.parse(part)).toMatchObject({ part_number: 1, size: chunk1.length });
    const done = await curl(
      `curl -X POST http://localhost:8080/api/v1/project/my-project/releases/upload/abc123/complete \\
-H "Content-Type: application/json" \\
-d '{"tag": "v2.0.0"}'`,
      id,
    );
    expect(JSON.parse(done)).toMatchObject({ artifact_id: sha(chunk1), size: chunk1.length, tag: 'v2.0.0' });
  });

  it('Download an Artifact: by tag, by artifact ID, short URL', async () => {
    await curl('curl -O http://localhost:8080/api/v1/project/my-project/releases/+/v1.0.0');
    expect(sha(await readFile(join(work, 'v1.0.0')))).toBe(sha(app));
    const prefix = sha(app).slice(0, 16);
    await curl(`curl -O http://localhost:8080/api/v1/project/my-project/releases/+/artifact:${prefix}`);
    expect(sha(await readFile(join(work, `artifact:${prefix}`)))).toBe(sha(app));
    await curl('curl -O http://localhost:8080/project/my-project/releases/+/latest');
    // No tag is called latest: the newest upload (the resumable one) is served.
    expect(sha(await readFile(join(work, 'latest')))).toBe(sha(chunk1));
  });

  it('Partial download (range request)', async () => {
    const out = await run(
      'bash',
      [
        '-c',
        `curl -H "Range: bytes=0-1023" http://127.0.0.1:${port}/api/v1/project/my-project/releases/+/v2.0.0`,
      ],
      { encoding: 'buffer', maxBuffer: 1 << 20 },
    );
    expect(out.stdout.length).toBe(1024);
    expect(out.stdout.equals(chunk1.subarray(0, 1024))).toBe(true);
  });

  it('Check file info without downloading (HEAD request)', async () => {
    const out = await curl('curl -I http://localhost:8080/api/v1/project/my-project/releases/+/v1.0.0');
    expect(out).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(out).toMatch(new RegExp(`x-checksum-sha256: ${sha(app)}`, 'i'));
    expect(out).toMatch(new RegExp(`content-length: ${app.length}`, 'i'));
    expect(out).toMatch(/x-orchard-format: tarball/i);
  });

  it('Create a Tag', async () => {
    const out = await curl(
      `curl -X POST http://localhost:8080/api/v1/project/my-project/releases/tags \\
-H "Content-Type: application/json" \\
-d '{"name": "stable", "artifact_id": "a3f5d8e12b4c6789..."}'`,
      { 'a3f5d8e12b4c6789...': sha(app).slice(0, 16) },
    );
    expect(JSON.parse(out)).toMatchObject({ name: 'stable', artifact_id: sha(app) });
  });

  it('Get Artifact by ID', async () => {
    const out = await curl(
      'curl http://localhost:8080/api/v1/artifact/a3f5d8e12b4c67890abcdef1234567890abcdef1234567890abcdef12345678',
      { a3f5d8e12b4c67890abcdef1234567890abcdef1234567890abcdef12345678: sha(app) },
    );
    expect(JSON.parse(out)).toMatchObject({
      id: sha(app),
      size: app.length,
      format_metadata: { format: 'tarball', package_name: 'app', version: '1.0.0' },
      tags: expect.arrayContaining([
        { project: 'my-project', package: 'releases', tag: 'v1.0.0' },
        { project: 'my-project', package: 'releases', tag: 'stable' },
      ]),
    });
  });

  it('serves the API docs at /docs and the OpenAPI document at /openapi.json', async () => {
    expect(await curl('curl http://localhost:8080/docs')).toContain('<title>Orchard API</title>');
    expect(JSON.parse(await curl('curl http://localhost:8080/openapi.json')).openapi).toBe('3.1.0');
  });
});
