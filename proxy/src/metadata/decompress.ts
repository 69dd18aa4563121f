import { spawn } from 'node:child_process';
import { Duplex, pipeline, type Readable, Transform } from 'node:stream';
import { createGunzip, createZstdDecompress } from 'node:zlib';
import { type ExtractContext, ExtractError } from './extractor.ts';

export type Compression = 'gzip' | 'zstd' | 'xz' | 'none';

/** Compression of a stream from its magic bytes; `none` when unrecognised. */
export function detectCompression(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  if (head.length >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])))
    return 'xz';
  return 'none';
}

/**
 * Decompress `input`, charging every output byte to the budget. A bomb stops
 * at `maxInflateBytes`: the meter errors and the pipeline tears the
 * decompressor down, so at most one extra zlib chunk is ever produced.
 */
export function decompress(input: Readable, kind: Compression, ctx: ExtractContext): Readable {
  if (kind === 'none') return input;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      try {
        ctx.budget.chargeInflate(chunk.length);
        cb(null, chunk);
      } catch (err) {
        cb(err as Error);
      }
    },
  });
  return pipeline(input, decompressor(kind, ctx), meter, () => {});
}

function decompressor(kind: Exclude<Compression, 'none'>, ctx: ExtractContext): Duplex {
  if (kind === 'gzip') return createGunzip();
  if (kind === 'zstd') return createZstdDecompress();
  return spawnXz(ctx);
}

/**
 * Node has no xz decoder and Orchard adds no dependency for one: `xz -dc` runs
 * as a child with a memory limit, killed when the stream is destroyed or the
 * time budget ends. Without the binary, `.xz` members report an error.
 */
function spawnXz(ctx: ExtractContext): Duplex {
  const child = spawn('xz', ['-dc', '-M', '64MiB', '-T1'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const duplex = Duplex.from({ writable: child.stdin, readable: child.stdout });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 512) stderr += d.toString('utf8');
  });
  // The decompressor may stop reading stdin early (trailing data, error): not our failure.
  child.stdin.on('error', () => {});
  child.once('error', (err: NodeJS.ErrnoException) => {
    const reason = err.code === 'ENOENT' ? 'xz is not installed; cannot read .xz members' : err.message;
    duplex.destroy(new ExtractError(reason));
  });
  child.once('close', (code) => {
    if (code !== 0 && code !== null)
      duplex.destroy(new ExtractError(`xz: ${stderr.trim() || `exit ${code}`}`));
  });
  const kill = () => child.kill('SIGKILL');
  ctx.signal.addEventListener('abort', kill, { once: true });
  duplex.once('close', () => {
    ctx.signal.removeEventListener('abort', kill);
    if (child.exitCode === null) kill();
  });
  return duplex;
}
