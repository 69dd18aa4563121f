import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestOf, OciClient } from './lib/oci-client.ts';
import { dockerRemote, type Orchard, startOrchard } from './lib/orchard.ts';

/**
 * OCI distribution spec, workflow categories "Pull", "Content Discovery" and
 * "Content Management", against a hosted docker repository. Each test names
 * the spec section (and endpoint id) it checks.
 */
describe('distribution spec: Pull, Content Discovery, Content Management (hosted)', () => {
  let orchard: Orchard;
  let oci: OciClient;

  beforeAll(async () => {
    orchard = await startOrchard({ config: dockerRemote('hosted', { type: 'local' }) });
    oci = new OciClient(orchard.url);
  });
  afterAll(async () => {
    await orchard?.close();
  });

  describe('Pull', () => {
    it('end-1 "Determining Support": GET /v2/ answers 200 with Docker-Distribution-API-Version', async () => {
      for (const path of ['/v2/', '/v2']) {
        const r = await oci.req('GET', path);
        expect(r.status).toBe(200);
        expect(r.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
      }
    });

    it('end-2 "Pulling blobs" and "Checking if content exists": GET, HEAD, Docker-Content-Digest, Range', async () => {
      const data = Buffer.from('0123456789'.repeat(10));
      const digest = await oci.pushBlob('hosted/pull', data);
      const head = await oci.req('HEAD', `/v2/hosted/pull/blobs/${digest}`);
      expect(head.status).toBe(200);
      expect(head.headers.get('content-length')).toBe('100');
      expect(head.headers.get('docker-content-digest')).toBe(digest);
      expect(head.body.length).toBe(0);
      const range = await oci.req('GET', `/v2/hosted/pull/blobs/${digest}`, {
        headers: { range: 'bytes=10-19' },
      });
      expect(range.status).toBe(206);
      expect(range.headers.get('content-range')).toBe('bytes 10-19/100');
      expect(range.body.toString()).toBe('0123456789');
      const outside = await oci.req('GET', `/v2/hosted/pull/blobs/${digest}`, {
        headers: { range: 'bytes=500-' },
      });
      expect(outside.status).toBe(416);
      expect(outside.headers.get('content-range')).toBe('bytes */100');
    });

    it('end-2/end-3: unknown content is 404 with BLOB_UNKNOWN / MANIFEST_UNKNOWN in the error envelope', async () => {
      const blob = await oci.req('GET', `/v2/hosted/pull/blobs/${digestOf('missing')}`);
      expect(blob.status).toBe(404);
      expect(blob.json()).toMatchObject({ errors: [{ code: 'BLOB_UNKNOWN', message: expect.any(String) }] });
      const manifest = await oci.req('GET', '/v2/hosted/pull/manifests/nosuchtag');
      expect(manifest.status).toBe(404);
      expect(manifest.codes()).toEqual(['MANIFEST_UNKNOWN']);
      const head = await oci.req('HEAD', '/v2/hosted/pull/manifests/nosuchtag');
      expect(head.status).toBe(404);
    });

    it('end-3 "Pulling manifests": HEAD gives the length and digest without a body', async () => {
      const { digest } = await oci.pushImage('hosted/pull', 'head', ['h']);
      const head = await oci.req('HEAD', '/v2/hosted/pull/manifests/head');
      expect(head.status).toBe(200);
      expect(head.headers.get('docker-content-digest')).toBe(digest);
      expect(Number(head.headers.get('content-length'))).toBeGreaterThan(0);
      expect(head.body.length).toBe(0);
    });

    it('"Pulling manifests": an invalid repository name is NAME_INVALID, an unknown remote NAME_UNKNOWN', async () => {
      const invalid = await oci.req('GET', '/v2/hosted/UPPER/manifests/latest');
      expect(invalid.status).toBe(400);
      expect(invalid.codes()).toEqual(['NAME_INVALID']);
      const unknown = await oci.req('GET', '/v2/nosuchremote/app/manifests/latest');
      expect(unknown.status).toBe(404);
      expect(unknown.codes()).toEqual(['NAME_UNKNOWN']);
    });
  });

  describe('Content Discovery', () => {
    beforeAll(async () => {
      for (const tag of ['b', 'a', 'd', 'c', 'e']) await oci.pushImage('hosted/tags', tag, [`layer ${tag}`]);
    });

    it('end-8a "Listing Tags": every tag, in lexical order', async () => {
      const r = await oci.req('GET', '/v2/hosted/tags/tags/list');
      expect(r.status).toBe(200);
      expect(r.json()).toEqual({ name: 'hosted/tags', tags: ['a', 'b', 'c', 'd', 'e'] });
    });

    it('end-8b: n and last paginate, with a Link to the next page', async () => {
      const first = await oci.req('GET', '/v2/hosted/tags/tags/list?n=2');
      expect(first.json()).toEqual({ name: 'hosted/tags', tags: ['a', 'b'] });
      expect(first.headers.get('link')).toBe('</v2/hosted/tags/tags/list?n=2&last=b>; rel="next"');
      const next = await oci.req('GET', '/v2/hosted/tags/tags/list?n=2&last=b');
      expect(next.json<{ tags: string[] }>().tags).toEqual(['c', 'd']);
      const last = await oci.req('GET', '/v2/hosted/tags/tags/list?n=2&last=d');
      expect(last.json<{ tags: string[] }>().tags).toEqual(['e']);
      expect(last.headers.get('link')).toBeNull();
      const onlyLast = await oci.req('GET', '/v2/hosted/tags/tags/list?last=c');
      expect(onlyLast.json<{ tags: string[] }>().tags).toEqual(['d', 'e']);
    });

    it('end-8b: n=0 returns an empty list without a Link header', async () => {
      const r = await oci.req('GET', '/v2/hosted/tags/tags/list?n=0');
      expect(r.json<{ tags: string[] }>().tags).toEqual([]);
      expect(r.headers.get('link')).toBeNull();
    });

    it('end-8a: an unknown repository is 404 NAME_UNKNOWN', async () => {
      const r = await oci.req('GET', '/v2/hosted/nothing-here/tags/list');
      expect(r.status).toBe(404);
      expect(r.codes()).toEqual(['NAME_UNKNOWN']);
    });

    it('end-12a/b "Listing Referrers": manifests with a subject, OCI-Subject on push, artifactType filter', async () => {
      const subject = await oci.pushImage('hosted/refs', 'base', ['base layer']);
      const subjectDesc = {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: subject.digest,
        size: Buffer.byteLength(JSON.stringify(subject.manifest)),
      };
      const sig = await oci.pushImage('hosted/refs', 'sig', ['signature'], {
        artifactType: 'application/vnd.example.signature',
        subject: subjectDesc,
        annotations: { 'org.example': 'yes' },
      });
      expect(sig.reply.status).toBe(201);
      expect(sig.reply.headers.get('oci-subject')).toBe(subject.digest);
      await oci.pushImage('hosted/refs', 'sbom', ['sbom'], {
        artifactType: 'application/vnd.example.sbom',
        subject: subjectDesc,
      });
      const all = await oci.req('GET', `/v2/hosted/refs/referrers/${subject.digest}`);
      expect(all.status).toBe(200);
      expect(all.headers.get('content-type')).toBe('application/vnd.oci.image.index.v1+json');
      const index = all.json<{
        manifests: { digest: string; artifactType: string; annotations?: unknown }[];
      }>();
      expect(index.manifests.map((m) => m.artifactType).sort()).toEqual([
        'application/vnd.example.sbom',
        'application/vnd.example.signature',
      ]);
      expect(index.manifests.find((m) => m.digest === sig.digest)?.annotations).toEqual({
        'org.example': 'yes',
      });
      const filtered = await oci.req(
        'GET',
        `/v2/hosted/refs/referrers/${subject.digest}?artifactType=application/vnd.example.sbom`,
      );
      expect(filtered.headers.get('oci-filters-applied')).toBe('artifactType');
      expect(filtered.json<{ manifests: unknown[] }>().manifests).toHaveLength(1);
      const none = await oci.req('GET', `/v2/hosted/refs/referrers/${digestOf('no subject')}`);
      expect(none.status).toBe(200);
      expect(none.json<{ manifests: unknown[] }>().manifests).toEqual([]);
    });
  });

  describe('Content Management', () => {
    it('end-9 "Deleting tags": 202, the tag is gone, the manifest stays pullable by digest', async () => {
      const { digest } = await oci.pushImage('hosted/manage', 'doomed', ['t']);
      expect((await oci.req('DELETE', '/v2/hosted/manage/manifests/doomed')).status).toBe(202);
      expect((await oci.req('GET', '/v2/hosted/manage/manifests/doomed')).status).toBe(404);
      expect((await oci.req('GET', `/v2/hosted/manage/manifests/${digest}`)).status).toBe(200);
    });

    it('end-9 "Deleting Manifests": 202, then 404 by digest and by every tag that pointed at it', async () => {
      const { digest } = await oci.pushImage('hosted/manage', 'one', ['m']);
      await oci.pushManifest(
        'hosted/manage',
        'two',
        (await oci.req('GET', `/v2/hosted/manage/manifests/${digest}`)).body.toString(),
        'application/vnd.oci.image.manifest.v1+json',
      );
      expect((await oci.req('DELETE', `/v2/hosted/manage/manifests/${digest}`)).status).toBe(202);
      for (const ref of [digest, 'one', 'two']) {
        const r = await oci.req('GET', `/v2/hosted/manage/manifests/${ref}`);
        expect(r.status).toBe(404);
        expect(r.codes()).toEqual(['MANIFEST_UNKNOWN']);
      }
      expect((await oci.req('DELETE', `/v2/hosted/manage/manifests/${digest}`)).status).toBe(404);
    });

    it('end-10 "Deleting Blobs": 202, then 404 BLOB_UNKNOWN', async () => {
      const digest = await oci.pushBlob('hosted/manage', 'delete this blob');
      expect((await oci.req('DELETE', `/v2/hosted/manage/blobs/${digest}`)).status).toBe(202);
      const r = await oci.req('GET', `/v2/hosted/manage/blobs/${digest}`);
      expect(r.status).toBe(404);
      expect(r.codes()).toEqual(['BLOB_UNKNOWN']);
      expect((await oci.req('DELETE', `/v2/hosted/manage/blobs/${digest}`)).status).toBe(404);
    });
  });
});
