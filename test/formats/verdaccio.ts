import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { canConnect, freePort, startProcess, type TestProcess, tmpDir } from '../harness/index.ts';
import { npmEnv, runClient } from './clients.ts';

const bin = join(import.meta.dirname, '../../node_modules/.bin/verdaccio');

/**
 * A real Verdaccio registry on loopback: no uplinks (it never leaves the
 * machine), htpasswd auth so test packages are published with `npm publish`,
 * its storage in a temp dir. Started in beforeAll: the caller stops it.
 */
export class Verdaccio {
  url = '';
  private proc?: TestProcess;
  private dir = '';
  private port = 0;
  private token = '';

  async start(): Promise<void> {
    if (!this.dir) {
      this.dir = await tmpDir('verdaccio-');
      this.port = await freePort();
      const config = [
        `storage: ${join(this.dir, 'storage')}`,
        'auth:',
        '  htpasswd:',
        `    file: ${join(this.dir, 'htpasswd')}`,
        '    max_users: 10',
        'uplinks: {}',
        'packages:',
        "  '**':",
        '    access: $all',
        '    publish: $authenticated',
        'max_body_size: 50mb',
        'web:',
        '  enable: false',
        'log: { type: stdout, format: pretty, level: warn }',
        '',
      ].join('\n');
      await writeFile(join(this.dir, 'config.yaml'), config);
    }
    this.url = `http://127.0.0.1:${this.port}`;
    this.proc = await startProcess({
      cmd: process.execPath,
      args: [bin, '--config', join(this.dir, 'config.yaml'), '--listen', `127.0.0.1:${this.port}`],
      name: 'verdaccio',
      readyWhen: () => canConnect(this.port),
      timeoutMs: 60_000,
    });
  }

  async stop(): Promise<void> {
    await this.proc?.stop();
    this.proc = undefined;
  }

  /** Log in once (creates the user), keeping the token for publishing. */
  private async login(): Promise<string> {
    if (this.token) return this.token;
    const res = await fetch(`${this.url}/-/user/org.couchdb.user:orchard`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'orchard', password: 'orchard-test-password' }),
    });
    if (!res.ok) throw new Error(`verdaccio adduser: ${res.status} ${await res.text()}`);
    this.token = ((await res.json()) as { token: string }).token;
    return this.token;
  }

  /** `npm publish` a package made of `manifest` and an index.js, to this registry. */
  async publish(manifest: { name: string; version: string; [k: string]: unknown }): Promise<void> {
    const token = await this.login();
    const dir = await tmpDir('npm-pkg-');
    await writeFile(
      join(dir, 'package.json'),
      JSON.stringify({ license: 'MIT', main: 'index.js', ...manifest }, null, 2),
    );
    await writeFile(
      join(dir, 'index.js'),
      `module.exports = ${JSON.stringify(`${manifest.name}@${manifest.version}`)};\n`,
    );
    const npmrc = join(dir, '.npmrc');
    await writeFile(npmrc, `//127.0.0.1:${this.port}/:_authToken=${token}\n`);
    const publish = () =>
      runClient(
        'npm',
        [
          'publish',
          '--registry',
          `${this.url}/`,
          '--userconfig',
          npmrc,
          '--cache',
          join(dir, '.cache'),
          '--no-audit',
          '--no-fund',
        ],
        { cwd: dir, env: npmEnv() },
      );
    let run = await publish();
    // Verdaccio sometimes drops a publish connection (npm: "code EOF"); the
    // publish is seeding, not the behaviour under test, so it gets one retry.
    // A conflict on the retry means the first attempt did land.
    if (run.code !== 0 && /code EOF|ECONNRESET/.test(run.stderr)) {
      run = await publish();
      if (/EPUBLISHCONFLICT|cannot publish over|E409/.test(run.stderr)) return;
    }
    if (run.code !== 0)
      throw new Error(`npm publish ${manifest.name}@${manifest.version} failed:\n${run.stderr}`);
  }

  /**
   * Move the publish time of versions into the past in Verdaccio's storage (it
   * stamps every publish "now"), so quarantine has old and new versions to
   * tell apart. Verdaccio reads its local packuments from disk per request.
   */
  async backdate(name: string, versions: string[], at: Date): Promise<void> {
    const file = join(this.dir, 'storage', name, 'package.json');
    const doc = JSON.parse(await readFile(file, 'utf8')) as { time: Record<string, string> };
    for (const v of versions) doc.time[v] = at.toISOString();
    await writeFile(file, JSON.stringify(doc, null, 2));
  }

  /** Overwrite a stored tarball with other bytes: the packument still names the real integrity. */
  async corruptTarball(name: string, file: string): Promise<void> {
    const path = join(this.dir, 'storage', name, file);
    const bytes = await readFile(path);
    bytes.fill(0, 20, 60);
    await writeFile(path, bytes);
  }
}
