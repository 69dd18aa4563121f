import { spawn } from 'node:child_process';

const root = new URL('../../', import.meta.url).pathname;

export interface Child {
  pid: number;
  url: string;
  /** SIGKILL (or `stopSignal`, with SIGKILL after 10 s), resolved once it exited. */
  stop(): Promise<void>;
}

/**
 * Start `node <args>` from the repository root; ready when it prints
 * `listening <port>`, or when it answers GET /health on `port`.
 */
export async function startChild(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; port?: number; stopSignal?: NodeJS.Signals } = {},
): Promise<Child> {
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let poll: NodeJS.Timeout | undefined;
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (c: Buffer) => {
      output = (output + c.toString()).slice(-8192);
      const m = /listening (\d+)/.exec(output);
      if (m) resolve(`http://127.0.0.1:${m[1]}`);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited (${code}):\n${output}`)));
    if (opts.port) {
      poll = setInterval(() => {
        fetch(`http://127.0.0.1:${opts.port}/health`).then(
          (r) => r.ok && resolve(`http://127.0.0.1:${opts.port}`),
          () => {},
        );
      }, 200);
    }
  }).finally(() => clearInterval(poll));
  child.stdout.resume();
  child.stderr.resume();
  return {
    pid: child.pid!,
    url,
    stop: async () => {
      child.kill(opts.stopSignal ?? 'SIGKILL');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
