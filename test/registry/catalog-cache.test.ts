import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryDatabase } from '../../proxy/src/db/memory.ts';
import { loadMigrations, migrate } from '../../proxy/src/db/migrate.ts';
import { silentLogger as logger } from '../../proxy/src/http/logger.ts';
import { type DockerRegistry, startDockerRegistry } from './lib/docker-registry.ts';
import { OciClient } from './lib/oci-client.ts';
import { dockerRemote, type Orchard, startOrchard } from './lib/orchard.ts';
import { pushBlobStream, pushManifest } from './lib/push.ts';

type Catalog = { repositories: string[] };
const accept = { accept: 'application/vnd.oci.image.manifest.v1+json' };

/**
 * `_catalog` for pull-through remotes reads `registry_cached_repositories`,
 * which the registry's fills write and cache flushes prune; never the
 * cache index (so its cost does not grow with the number of cached objects).
 * Upstream: Debian's docker-registry with three repositories, one nested
 * under another.
 */
describe('_catalog of pull-through repositories', () => {
  let upstream: DockerRegistry;
  let orchard: Orchard;
  let oci: OciClient;
  const layers = new Map<string, string>();

  beforeAll(async () => {
    upstream = await startDockerRegistry();
    for (const repo of ['team/app', 'team/app/sub', 'team/tool']) {
      const content = Buffer.from(`layer of ${repo}\n`);
      const layer = await pushBlobStream(upstream.url, repo, content.length, async function* () {
        yield content;
      });
      await pushManifest(upstream.url, repo, 'v1', [{ digest: layer, size: content.length }]);
      layers.set(repo, layer);
    }
    orchard = await startOrchard({ config: dockerRemote('up', { type: 'remote', baseUrl: upstream.url }) });
    oci = new OciClient(orchard.url);
  }, 120_000);

  afterAll(async () => {
    await orchard?.close();
    await upstream?.stop();
  });

  const catalog = async () => (await oci.req('GET', '/v2/_catalog')).json<Catalog>().repositories;
  const get = async (path: string) => {
    const r = await oci.req('GET', path, { headers: accept });
    expect(r.status, path).toBe(200);
  };
  const flush = async (query: string) => {
    const r = await oci.req('PUT', `/cache/flush?remote=up&${query}`);
    expect(r.status).toBe(200);
  };
  const pullAll = async () => {
    for (const repo of ['team/app', 'team/app/sub']) {
      await get(`/v2/up/${repo}/manifests/v1`);
      await get(`/v2/up/${repo}/blobs/${layers.get(repo)}`);
    }
    await get('/v2/up/team/tool/tags/list');
    await orchard.settled();
  };

  it('lists a repository once a manifest, blob or tag list of it was pulled, not for a HEAD', async () => {
    const head = await oci.req('HEAD', '/v2/up/team/tool/manifests/v1', { headers: accept });
    expect(head.status).toBe(200);
    expect(await catalog()).toEqual([]);
    await get(`/v2/up/team/app/sub/blobs/${layers.get('team/app/sub')}`);
    await get('/v2/up/team/tool/tags/list');
    expect(await catalog()).toEqual(['up/team/app/sub', 'up/team/tool']);
    await get('/v2/up/team/app/manifests/v1');
    expect(await catalog()).toEqual(['up/team/app', 'up/team/app/sub', 'up/team/tool']);
    await pullAll();
  });

  it('a pattern flush forgets only the repositories it left without entries', async () => {
    // team/app keeps its blob: still listed.
    await flush(`pattern=${encodeURIComponent('^team/app/manifests/')}`);
    expect(await catalog()).toEqual(['up/team/app', 'up/team/app/sub', 'up/team/tool']);
    // team/app is empty now; team/app/sub's objects share its path prefix but are not its own.
    await flush(`pattern=${encodeURIComponent('^team/app/(manifests|blobs)/')}`);
    expect(await catalog()).toEqual(['up/team/app/sub', 'up/team/tool']);
    // Dropping only TTL state removes nothing.
    await flush('mutable_only=true');
    expect(await catalog()).toEqual(['up/team/app/sub', 'up/team/tool']);
  });

  it('a whole flush forgets every repository of the remote; the next pull lists it again', async () => {
    await flush('');
    expect(await catalog()).toEqual([]);
    await get('/v2/up/team/app/manifests/v1');
    expect(await catalog()).toEqual(['up/team/app']);
    await pullAll();
    expect(await catalog()).toEqual(['up/team/app', 'up/team/app/sub', 'up/team/tool']);
  });

  it('does not read the cache index: rows deleted behind its back still list', async () => {
    const db = orchard.proxy.deps.db;
    const gone = await db.query("DELETE FROM cache_entries WHERE remote = 'up'");
    expect(gone.rowCount).toBeGreaterThan(0);
    expect(await catalog()).toEqual(['up/team/app', 'up/team/app/sub', 'up/team/tool']);
  });
});

describe('migration 040 backfills cached repositories', () => {
  it('from the docker-shaped paths already in the cache index, with their first sighting', async () => {
    const db = await createMemoryDatabase(logger);
    try {
      const all = await loadMigrations();
      await migrate(db, { logger, migrations: all.filter((m) => m.version < 40) });
      const rows: [string, string, string][] = [
        ['hub', 'library/nginx/manifests/latest', '2024-01-02T00:00:00Z'],
        ['hub', `library/nginx/blobs/sha256:${'a'.repeat(64)}`, '2024-01-01T00:00:00Z'],
        ['hub', 'team/app/sub/tags/list', '2024-03-01T00:00:00Z'],
        ['hub', `solo/blobs/sha256:${'b'.repeat(64)}`, '2024-04-01T00:00:00Z'],
        ['hub', 'manifests/latest', '2024-04-01T00:00:00Z'],
        ['npm', 'left-pad/-/left-pad-1.3.0.tgz', '2024-05-01T00:00:00Z'],
      ];
      for (const [remote, path, at] of rows) {
        await db.query(
          `INSERT INTO cache_entries (remote, path, digest, size, created_at) VALUES ($1, $2, $3, 1, $4)`,
          [remote, path, 'c'.repeat(64), at],
        );
      }
      expect((await migrate(db, { logger, migrations: all })).applied).toContain(40);
      const { rows: listed } = await db.query<{ remote: string; repository: string; first_seen: Date }>(
        'SELECT remote, repository, first_seen FROM registry_cached_repositories ORDER BY 1, 2',
      );
      expect(listed.map((r) => [r.remote, r.repository, r.first_seen.toISOString()])).toEqual([
        ['hub', 'library/nginx', '2024-01-01T00:00:00.000Z'],
        ['hub', 'solo', '2024-04-01T00:00:00.000Z'],
        ['hub', 'team/app/sub', '2024-03-01T00:00:00.000Z'],
      ]);
    } finally {
      await db.close();
    }
  });
});
