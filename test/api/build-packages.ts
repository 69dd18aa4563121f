// Builds real packages with the tools their ecosystems use (dpkg-deb,
// rpmbuild, pip, jar, zip, tar, npm pack) for metadata and upload tests.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): void {
  execFileSync(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: 'pipe', timeout: 120_000 });
}

function write(path: string, text: string): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
}

/** `dpkg-deb --build` with the given control compression (gzip, xz or zstd). */
export function buildDeb(dir: string, compression: 'gzip' | 'xz' | 'zstd'): string {
  const root = join(dir, `deb-${compression}`);
  write(
    join(root, 'DEBIAN/control'),
    [
      'Package: orchard-demo',
      'Version: 1.2.3-1',
      'Architecture: amd64',
      'Maintainer: Jane Doe <jane@example.com>',
      'Depends: libc6 (>= 2.31), libssl3 | libssl1.1',
      'Section: utils',
      'Priority: optional',
      'Installed-Size: 12',
      'Description: A demo package',
      ' Longer description line.',
      '',
    ].join('\n'),
  );
  write(join(root, 'usr/share/doc/orchard-demo/README'), 'hello\n');
  const out = join(dir, `orchard-demo_1.2.3-1_amd64.${compression}.deb`);
  run('dpkg-deb', ['--root-owner-group', `-Z${compression}`, '--build', root, out]);
  return out;
}

/** `rpmbuild -bb` of a noarch spec that installs one file. */
export function buildRpm(dir: string): string {
  const top = join(dir, 'rpmbuild');
  write(
    join(top, 'SPECS/demo.spec'),
    [
      'Name: orchard-demo',
      'Version: 2.0.1',
      'Release: 3',
      'Summary: Orchard demo rpm',
      'License: MIT',
      'BuildArch: noarch',
      'Requires: bash',
      '%description',
      'Demo.',
      '%install',
      'mkdir -p %{buildroot}/usr/share/orchard-demo',
      'echo hi > %{buildroot}/usr/share/orchard-demo/hello.txt',
      '%files',
      '/usr/share/orchard-demo/hello.txt',
      '',
    ].join('\n'),
  );
  run('rpmbuild', ['--define', `_topdir ${top}`, '-bb', join(top, 'SPECS/demo.spec')]);
  return join(top, 'RPMS/noarch/orchard-demo-2.0.1-3.noarch.rpm');
}

/** A wheel built by pip from a setup.py (system Python: it has setuptools and wheel, no network needed). */
export function buildWheel(dir: string): string {
  const src = join(dir, 'wheel-src');
  write(
    join(src, 'setup.py'),
    `from setuptools import setup
setup(name="demo-pkg", version="0.4.2", packages=["demo_pkg"], author="Jane Doe",
      author_email="jane@example.com", description="A demo", install_requires=["requests>=2"],
      python_requires=">=3.8", license="MIT")
`,
  );
  write(join(src, 'demo_pkg/__init__.py'), '');
  const out = join(dir, 'wheels');
  const env: NodeJS.ProcessEnv = { ...process.env, PIP_CONFIG_FILE: '/dev/null' };
  delete env.PIP_FIND_LINKS;
  run(
    '/usr/bin/python3',
    ['-m', 'pip', 'wheel', '--isolated', '--no-build-isolation', '--no-deps', '--no-index', '-w', out, src],
    { env },
  );
  return join(out, readdirSync(out).find((f) => f.endsWith('.whl'))!);
}

/** `jar` with a manifest and Maven's pom.properties, as the Maven jar plugin lays them out. */
export function buildJar(dir: string): string {
  const root = join(dir, 'jar-root');
  write(join(root, 'com/example/App.txt'), 'not really a class\n');
  write(
    join(root, 'META-INF/maven/com.example/demo-app/pom.properties'),
    'artifactId=demo-app\ngroupId=com.example\nversion=3.1.4\n',
  );
  write(
    join(dir, 'manifest.txt'),
    'Main-Class: com.example.App\nImplementation-Title: Demo App\nImplementation-Version: 3.1.4\n',
  );
  const out = join(dir, 'demo-app-3.1.4.jar');
  run('jar', ['--create', '--file', out, '--manifest', join(dir, 'manifest.txt'), '-C', root, '.']);
  return out;
}

/** `zip -r` of three files in two directories. */
export function buildZip(dir: string): string {
  const root = join(dir, 'zip-root');
  write(join(root, 'a.txt'), 'a'.repeat(1000));
  write(join(root, 'sub/b.txt'), 'b'.repeat(2000));
  write(join(root, 'sub/c.txt'), 'c'.repeat(3000));
  const out = join(dir, 'bundle.zip');
  run('zip', ['-qr', out, '.'], { cwd: root });
  return out;
}

/** `tar czf app-v1.0.0.tar.gz`, the seed's example name. */
export function buildTarball(dir: string): string {
  const root = join(dir, 'tar-root');
  write(join(root, 'app/bin/app'), '#!/bin/sh\necho app\n');
  const out = join(dir, 'app-v1.0.0.tar.gz');
  run('tar', ['czf', out, '-C', root, 'app']);
  return out;
}

/** `npm pack` of a scoped package with dependencies. */
export function buildNpm(dir: string): string {
  const root = join(dir, 'npm-root');
  write(
    join(root, 'package.json'),
    JSON.stringify({
      name: '@orchard/demo',
      version: '1.2.3',
      description: 'demo',
      license: 'MIT',
      dependencies: { 'left-pad': '^1.3.0' },
    }),
  );
  write(join(root, 'lib/index.js'), 'module.exports = 1;\n');
  run('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: root });
  return join(dir, 'orchard-demo-1.2.3.tgz');
}

/** A helm chart archive as `helm package` lays it out (Chart.yaml first), made with tar since no helm binary exists here. */
export function buildHelm(dir: string): string {
  const root = join(dir, 'helm-root');
  write(
    join(root, 'mychart/Chart.yaml'),
    'apiVersion: v2\nname: mychart\nversion: 0.1.0\nappVersion: "1.16.0"\ndescription: A demo chart\ntype: application\n',
  );
  write(join(root, 'mychart/values.yaml'), 'replicaCount: 1\n');
  write(join(root, 'mychart/templates/deployment.yaml'), 'kind: Deployment\n');
  const out = join(dir, 'mychart-0.1.0.tgz');
  run('tar', ['czf', out, '-C', root, 'mychart/Chart.yaml', 'mychart/values.yaml', 'mychart/templates']);
  return out;
}

/**
 * An Alpine package as abuild lays it out (no apk tools here): a signature
 * segment and a control segment, each a tar cut before its end blocks and
 * gzipped separately, then a data segment, all concatenated.
 */
export function buildApk(dir: string): string {
  const root = join(dir, 'apk-root');
  write(join(root, 'sig/.SIGN.RSA.demo.rsa.pub'), 'signature bytes');
  write(
    join(root, 'ctl/.PKGINFO'),
    [
      '# Generated by abuild',
      'pkgname = orchard-demo',
      'pkgver = 1.0.0-r0',
      'pkgdesc = Demo apk',
      'url = https://example.com',
      'arch = x86_64',
      'license = MIT',
      'size = 4096',
      'depend = musl',
      'depend = so:libc.musl-x86_64.so.1',
      '',
    ].join('\n'),
  );
  write(join(root, 'data/usr/bin/demo'), '#!/bin/sh\n');
  const segment = (sub: string, cut: boolean): Buffer => {
    const tarFile = join(dir, `${sub}.tar`);
    run('tar', ['--format=ustar', '-cf', tarFile, '-C', join(root, sub), '.']);
    let bytes = readFileSync(tarFile);
    if (cut) {
      let end = bytes.length;
      while (end >= 512 && bytes.subarray(end - 512, end).every((b) => b === 0)) end -= 512;
      bytes = bytes.subarray(0, end);
    }
    return gzipSync(bytes);
  };
  const out = join(dir, 'orchard-demo-1.0.0-r0.apk');
  writeFileSync(out, Buffer.concat([segment('sig', true), segment('ctl', true), segment('data', false)]));
  return out;
}
