import { spawn } from 'node:child_process';
import { Duplex, Readable, Transform } from 'node:stream';
import { createGunzip, createZstdDecompress } from 'node:zlib';

// Shared by the deb and rpm formats: repository indexes (Packages, Sources,
// primary.xml) are published compressed, and their hints are read from the
// decompressed text as a stream, so memory stays bounded whatever their size.

export type IndexCompression = 'gzip' | 'xz' | 'zstd' | 'bzip2' | 'none';

/** The compression of an index from its first bytes (the path's suffix can lie, by-hash paths have none). */
export function detectCompression(head: Buffer): IndexCompression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  if (head.length >= 6 && head.subarray(0, 6).equals(xzMagic)) return 'xz';
  if (head.length >= 3 && head.toString('latin1', 0, 3) === 'BZh') return 'bzip2';
  return 'none';
}

const xzMagic = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);

export interface OpenIndexOptions {
  /** Decompressed bytes beyond this fail the stream (a decompression bomb). */
  maxBytes: number;
  /** An external decompressor (xz, bzip2) still running after this is killed; default 120 s. */
  timeoutMs?: number;
}

/**
 * The decompressed bytes of `body`, as a stream that errors when the data is
 * corrupt, exceeds `maxBytes`, or needs a decompressor that is not installed.
 * gzip and zstd decode in-process; Node has no xz or bzip2 decoder and Orchard
 * adds no dependency for one (as `metadata/decompress.ts`), so `xz -dc` and
 * `bzip2 -dc` run as children, killed when the stream is destroyed.
 */
export function openIndex(body: Buffer, opts: OpenIndexOptions): Readable {
  const kind = detectCompression(body.subarray(0, 8));
  const source = Readable.from([body]);
  if (kind === 'none') return source.pipe(meter(opts.maxBytes));
  const decoder =
    kind === 'gzip'
      ? createGunzip()
      : kind === 'zstd'
        ? createZstdDecompress()
        : spawnDecoder(kind === 'xz' ? 'xz' : 'bzip2', opts.timeoutMs ?? 120_000);
  const out = meter(opts.maxBytes);
  decoder.once('error', (err) => out.destroy(err));
  out.once('close', () => decoder.destroy());
  return source.pipe(decoder).pipe(out);
}

function meter(max: number): Transform {
  let total = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      total += chunk.length;
      if (total > max) cb(new Error(`the decompressed index is larger than ${max} bytes`));
      else cb(null, chunk);
    },
  });
}

function spawnDecoder(cmd: 'xz' | 'bzip2', timeoutMs: number): Duplex {
  const args = cmd === 'xz' ? ['-dc', '-M', '256MiB', '-T1'] : ['-dc'];
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const duplex = Duplex.from({ writable: child.stdin, readable: child.stdout });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 512) stderr += d.toString('utf8');
  });
  // The decoder may stop reading early (corrupt data): its exit status says why.
  child.stdin.on('error', () => {});
  child.once('error', (err: NodeJS.ErrnoException) => {
    const reason = err.code === 'ENOENT' ? `${cmd} is not installed` : err.message;
    duplex.destroy(new Error(`cannot decompress the index: ${reason}`));
  });
  child.once('close', (code) => {
    if (code !== 0 && code !== null) duplex.destroy(new Error(`${cmd}: ${stderr.trim() || `exit ${code}`}`));
  });
  const kill = () => {
    if (child.exitCode === null) child.kill('SIGKILL');
  };
  const timer = setTimeout(
    () => duplex.destroy(new Error(`${cmd} took longer than ${timeoutMs} ms`)),
    timeoutMs,
  );
  timer.unref();
  duplex.once('close', () => {
    clearTimeout(timer);
    kill();
  });
  return duplex;
}

/**
 * The lines of a byte stream as UTF-8 text, without their line ends. A line
 * longer than `maxLine` characters is cut there (index fields that matter are
 * short; a runaway line must not grow without bound).
 */
export async function* readLines(stream: Readable, maxLine = 1024 * 1024): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8');
  let carry = '';
  for await (const chunk of stream) {
    const text = carry + decoder.decode(chunk as Buffer, { stream: true });
    const parts = text.split('\n');
    carry = parts.pop() ?? '';
    if (carry.length > maxLine) carry = carry.slice(0, maxLine);
    for (const line of parts) yield stripCr(line.length > maxLine ? line.slice(0, maxLine) : line);
  }
  carry += decoder.decode();
  if (carry !== '') yield stripCr(carry);
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}
