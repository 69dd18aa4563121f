import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canConnect, freePort, requireEnv, startProcess, tmpDir } from './index.ts';

const NODE = process.execPath;

function listenScript(port: number): string {
  return `require('node:net').createServer().listen(${port}, '127.0.0.1', () => console.log('listening on ${port}'));`;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('requireEnv', () => {
  it('returns the value of a set variable', () => {
    process.env.ORCHARD_TEST_HARNESS_SET = 'value-1';
    expect(requireEnv('ORCHARD_TEST_HARNESS_SET')).toBe('value-1');
  });

  it.each([
    ['unset', undefined],
    ['empty', ''],
  ])('throws naming the variable and npm test when it is %s', (_label, value) => {
    if (value === undefined) delete process.env.ORCHARD_TEST_HARNESS_MISSING;
    else process.env.ORCHARD_TEST_HARNESS_MISSING = value;
    expect(() => requireEnv('ORCHARD_TEST_HARNESS_MISSING')).toThrow(
      /ORCHARD_TEST_HARNESS_MISSING is not set.*npm test/,
    );
  });
});

describe('freePort', () => {
  it('returns distinct loopback ports that can be listened on', async () => {
    const ports = await Promise.all([freePort(), freePort(), freePort()]);
    for (const port of ports) {
      expect(port).toBeGreaterThan(0);
      const srv = createServer();
      await new Promise<void>((resolve, reject) =>
        srv.once('error', reject).listen(port, '127.0.0.1', resolve),
      );
      await new Promise((resolve) => srv.close(resolve));
    }
    expect(new Set(ports).size).toBe(3);
  });
});

describe('startProcess', () => {
  it('waits for a line matching readyWhen and stop() kills the process', async () => {
    const port = await freePort();
    const proc = await startProcess({
      cmd: NODE,
      args: ['-e', listenScript(port)],
      readyWhen: /^listening on/,
    });
    expect(proc.logs()).toContain(`listening on ${port}`);
    expect(await canConnect(port)).toBe(true);
    await proc.stop();
    expect(await canConnect(port)).toBe(false);
    expect(isAlive(proc.pid)).toBe(false);
  });

  it('waits for an async probe', async () => {
    const port = await freePort();
    const proc = await startProcess({
      cmd: NODE,
      args: ['-e', `setTimeout(() => { ${listenScript(port)} }, 300)`],
      readyWhen: () => canConnect(port),
    });
    expect(await canConnect(port)).toBe(true);
    await proc.stop();
  });

  it('rejects with the output when the process exits before it is ready', async () => {
    const started = startProcess({
      cmd: NODE,
      args: ['-e', 'console.error("boom: bad config"); process.exit(3)'],
      readyWhen: /never printed/,
    });
    await expect(started).rejects.toThrow(/exited \(code 3\)[\s\S]*boom: bad config/);
  });

  it('rejects after the timeout and kills the process', async () => {
    const pidFile = join(await tmpDir('pid-'), 'pid');
    const started = startProcess({
      cmd: NODE,
      args: [
        '-e',
        `require('node:fs').writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setInterval(() => {}, 1000)`,
      ],
      readyWhen: /never printed/,
      timeoutMs: 500,
    });
    await expect(started).rejects.toThrow(/timed out after 500 ms/);
    expect(isAlive(Number(readFileSync(pidFile, 'utf8')))).toBe(false);
  });

  const pids: number[] = [];
  it('registers a stop for the end of the test when started inside one', async () => {
    const proc = await startProcess({ cmd: NODE, args: ['-e', 'setInterval(() => {}, 1000)'] });
    pids.push(proc.pid);
    expect(isAlive(proc.pid)).toBe(true);
  });

  it('has stopped the process of the previous test', () => {
    expect(pids).toHaveLength(1);
    expect(isAlive(pids[0])).toBe(false);
  });
});

describe('tmpDir', () => {
  const dirs: string[] = [];
  it('creates an empty directory under ORCHARD_TEST_TMP when set', async () => {
    const dir = await tmpDir();
    dirs.push(dir);
    expect(existsSync(dir)).toBe(true);
    if (process.env.ORCHARD_TEST_TMP) expect(dir.startsWith(process.env.ORCHARD_TEST_TMP)).toBe(true);
    await writeFile(join(dir, 'f'), 'x');
  });

  it('removed the directory of the previous test', () => {
    expect(dirs).toHaveLength(1);
    expect(existsSync(dirs[0])).toBe(false);
  });
});

describe.concurrent('tmpDir and startProcess in concurrent tests', () => {
  const ended: string[] = [];
  it('keep their resources while a sibling test ends first', async (ctx) => {
    await new Promise((r) => setTimeout(r, 50));
    const dir = await tmpDir('slow-', ctx);
    const proc = await startProcess({ cmd: NODE, args: ['-e', 'setInterval(() => {}, 1000)'], scope: ctx });
    await new Promise((r) => setTimeout(r, 400));
    ctx.expect(ended).toEqual(['fast']);
    ctx.expect(existsSync(dir)).toBe(true);
    ctx.expect(isAlive(proc.pid)).toBe(true);
  });

  it('ends quickly', async (ctx) => {
    await new Promise((r) => setTimeout(r, 100));
    await tmpDir('fast-', ctx);
    ctx.onTestFinished(() => {
      ended.push('fast');
    });
  });
});
