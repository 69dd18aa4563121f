import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bufferSource, defaultExtractors, extractMetadata } from '../../proxy/src/metadata/index.ts';
import * as build from './build-packages.ts';

// Packages built by the real tools on this machine; metadata must match what
// the tools were told to write.
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'orchard-meta-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function extract(path: string, declaredFormat?: string) {
  return extractMetadata(bufferSource(readFileSync(path), basename(path)), {
    registry: defaultExtractors(),
    declaredFormat,
  });
}

describe('metadata from packages built by real tools', () => {
  it.each(['gzip', 'xz', 'zstd'] as const)(
    'reads a .deb whose control member is %s-compressed',
    async (c) => {
      const md = await extract(build.buildDeb(dir, c));
      expect(md).toMatchObject({
        format: 'deb',
        package_name: 'orchard-demo',
        version: '1.2.3-1',
        architecture: 'amd64',
        maintainer: 'Jane Doe <jane@example.com>',
        depends: ['libc6 (>= 2.31)', 'libssl3 | libssl1.1'],
        installed_size: 12,
        description: 'A demo package',
      });
    },
  );

  it('reads name, version, release and arch from an rpm header', async () => {
    const md = await extract(build.buildRpm(dir));
    expect(md).toMatchObject({
      format: 'rpm',
      package_name: 'orchard-demo',
      version: '2.0.1',
      release: '3',
      architecture: 'noarch',
      license: 'MIT',
      summary: 'Orchard demo rpm',
    });
    expect(md.requires).toContain('bash');
  });

  it('reads METADATA from a wheel built by pip', async () => {
    const md = await extract(build.buildWheel(dir));
    expect(md).toMatchObject({
      format: 'wheel',
      package_name: 'demo-pkg',
      version: '0.4.2',
      author: 'Jane Doe',
      author_email: 'jane@example.com',
      requires_python: '>=3.8',
      requires_dist: [expect.stringMatching(/^requests ?\(?>=2\)?$/)],
      python_tag: 'py3',
      abi_tag: 'none',
      platform_tag: 'any',
    });
  });

  it('reads the manifest and Maven coordinates of a jar', async () => {
    const md = await extract(build.buildJar(dir));
    expect(md).toMatchObject({
      format: 'jar',
      package_name: 'demo-app',
      group_id: 'com.example',
      artifact_id: 'demo-app',
      version: '3.1.4',
      main_class: 'com.example.App',
    });
    expect((md.manifest as Record<string, string>)['Implementation-Title']).toBe('Demo App');
  });

  it('counts the files and uncompressed size of a zip', async () => {
    const md = await extract(build.buildZip(dir));
    expect(md).toMatchObject({ format: 'zip', file_count: 3, uncompressed_size: 6000 });
  });

  it('takes name and version of a tarball from its filename', async () => {
    expect(await extract(build.buildTarball(dir))).toEqual({
      format: 'tarball',
      package_name: 'app',
      version: '1.0.0',
    });
  });

  it('reads package/package.json from npm pack output', async () => {
    const md = await extract(build.buildNpm(dir));
    expect(md).toMatchObject({
      format: 'npm',
      package_name: '@orchard/demo',
      version: '1.2.3',
      license: 'MIT',
      dependencies: { 'left-pad': '^1.3.0' },
    });
  });

  it('reads Chart.yaml from a helm chart archive', async () => {
    const md = await extract(build.buildHelm(dir));
    expect(md).toMatchObject({
      format: 'helm',
      package_name: 'mychart',
      version: '0.1.0',
      app_version: '1.16.0',
      api_version: 'v2',
      type: 'application',
    });
  });

  it('reads .PKGINFO from the control segment of an apk', async () => {
    const md = await extract(build.buildApk(dir));
    expect(md).toMatchObject({
      format: 'apk',
      package_name: 'orchard-demo',
      version: '1.0.0-r0',
      architecture: 'x86_64',
      installed_size: 4096,
      depends: ['musl', 'so:libc.musl-x86_64.so.1'],
    });
  });

  it('reports a .deb cut in half as an error, not a failure', async () => {
    const whole = readFileSync(build.buildDeb(dir, 'xz'));
    const md = await extractMetadata(bufferSource(whole.subarray(0, 200), 'half.deb'), {
      registry: defaultExtractors(),
    });
    expect(md.format).toBe('deb');
    expect(md.error).toMatch(/truncated|corrupt|xz/);
  });
});
