import { inflateRawSync } from 'node:zlib';
import type { ArtifactSource, ExtractContext } from './extractor.ts';
import { ExtractError } from './extractor.ts';
import { StreamReader } from './stream-reader.ts';
import { normalisePath } from './tar.ts';

/** One central-directory record. Sizes are as declared by the archive: never trust them for allocation. */
export interface ZipEntry {
  path: string;
  safe: boolean;
  isDirectory: boolean;
  method: number;
  compressedSize: number;
  uncompressedSize: number;
  localOffset: number;
}

interface Directory {
  entries: number;
  offset: number;
  size: number;
}

const EOCD_SIG = 0x06054b50;
const EOCD64_LOCATOR_SIG = 0x07064b50;
const EOCD64_SIG = 0x06064b50;
const CD_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const U16_MAX = 0xffff;
const U32_MAX = 0xffffffff;

/** True when the artifact starts like a zip (local header or empty archive). */
export function looksLikeZip(head: Buffer): boolean {
  return head.length >= 4 && (head.readUInt32LE(0) === LOCAL_SIG || head.readUInt32LE(0) === EOCD_SIG);
}

/**
 * Walk the central directory (found from the end of the archive, zip64
 * aware), streaming it in bounded reads. Each record costs one entry of
 * budget, so a directory with millions of records stops at `maxEntries`.
 */
export async function* listZip(source: ArtifactSource, ctx: ExtractContext): AsyncGenerator<ZipEntry> {
  const dir = await findDirectory(source);
  if (dir.offset + dir.size > source.size)
    throw new ExtractError('zip central directory lies outside the file');
  const reader = new StreamReader(await source.open(dir.offset, dir.offset + dir.size));
  try {
    for (let i = 0; i < dir.entries; i++) {
      ctx.budget.chargeEntry();
      const fixed = await reader.read(46);
      if (fixed.length < 46 || fixed.readUInt32LE(0) !== CD_SIG)
        throw new ExtractError('corrupt zip central directory');
      const nameLen = fixed.readUInt16LE(28);
      const extraLen = fixed.readUInt16LE(30);
      const commentLen = fixed.readUInt16LE(32);
      const name = (await reader.read(nameLen)).toString('utf8');
      const extra = await reader.read(extraLen);
      await reader.skip(commentLen);
      const sizes = applyZip64(
        {
          uncompressedSize: fixed.readUInt32LE(24),
          compressedSize: fixed.readUInt32LE(20),
          localOffset: fixed.readUInt32LE(42),
        },
        extra,
      );
      yield {
        ...normalisePath(name),
        isDirectory: name.endsWith('/'),
        method: fixed.readUInt16LE(10),
        ...sizes,
      };
    }
  } finally {
    reader.close();
  }
}

/**
 * Read and inflate one member, refusing anything whose declared or actual
 * size passes `maxFileBytes`. inflate's `maxOutputLength` stops a member that
 * lies about its size (the classic zip bomb) after that many bytes.
 */
export async function readZipEntry(
  source: ArtifactSource,
  entry: ZipEntry,
  ctx: ExtractContext,
): Promise<Buffer> {
  const cap = ctx.limits.maxFileBytes;
  if (entry.uncompressedSize > cap || entry.compressedSize > cap + 1024) {
    throw new ExtractError(`${entry.path} is too large to read (${entry.uncompressedSize} bytes)`);
  }
  const local = await source.read(entry.localOffset, 30);
  if (local.length < 30 || local.readUInt32LE(0) !== LOCAL_SIG)
    throw new ExtractError('corrupt zip local header');
  const dataStart = entry.localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
  const data = await source.read(dataStart, entry.compressedSize);
  if (data.length < entry.compressedSize) throw new ExtractError('truncated zip member');
  let out: Buffer;
  if (entry.method === 0) out = data;
  else if (entry.method === 8) {
    try {
      out = inflateRawSync(data, { maxOutputLength: Math.max(1, entry.uncompressedSize) });
    } catch (err) {
      throw new ExtractError(`cannot inflate ${entry.path}: ${(err as Error).message}`);
    }
  } else throw new ExtractError(`unsupported zip compression method ${entry.method}`);
  if (out.length !== entry.uncompressedSize)
    throw new ExtractError(`${entry.path} does not match its declared size`);
  ctx.budget.chargeInflate(out.length);
  return out;
}

async function findDirectory(source: ArtifactSource): Promise<Directory> {
  const tailLen = Math.min(source.size, 22 + U16_MAX);
  const tailStart = source.size - tailLen;
  const tail = await source.read(tailStart, tailLen);
  let at = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD_SIG) {
      at = i;
      break;
    }
  }
  if (at === -1) throw new ExtractError('not a zip archive (no end of central directory)');
  const dir: Directory = {
    entries: tail.readUInt16LE(at + 10),
    size: tail.readUInt32LE(at + 12),
    offset: tail.readUInt32LE(at + 16),
  };
  const needs64 = dir.entries === U16_MAX || dir.size === U32_MAX || dir.offset === U32_MAX;
  if (!needs64) return dir;
  if (at < 20 || tail.readUInt32LE(at - 20) !== EOCD64_LOCATOR_SIG)
    throw new ExtractError('zip64 locator missing');
  const recordOffset = readU64(tail, at - 20 + 8);
  const record = await source.read(recordOffset, 56);
  if (record.length < 56 || record.readUInt32LE(0) !== EOCD64_SIG)
    throw new ExtractError('corrupt zip64 directory');
  return { entries: readU64(record, 32), size: readU64(record, 40), offset: readU64(record, 48) };
}

/** Replace 0xFFFFFFFF sizes and offsets with their zip64 extra-field values, in the order the spec fixes. */
function applyZip64(
  sizes: { uncompressedSize: number; compressedSize: number; localOffset: number },
  extra: Buffer,
): typeof sizes {
  let pos = 0;
  while (pos + 4 <= extra.length) {
    const id = extra.readUInt16LE(pos);
    const len = extra.readUInt16LE(pos + 2);
    if (id === 0x0001) {
      let p = pos + 4;
      const take = () => {
        if (p + 8 > pos + 4 + len) throw new ExtractError('corrupt zip64 extra field');
        const v = readU64(extra, p);
        p += 8;
        return v;
      };
      const out = { ...sizes };
      if (out.uncompressedSize === U32_MAX) out.uncompressedSize = take();
      if (out.compressedSize === U32_MAX) out.compressedSize = take();
      if (out.localOffset === U32_MAX) out.localOffset = take();
      return out;
    }
    pos += 4 + len;
  }
  return sizes;
}

function readU64(buf: Buffer, at: number): number {
  const n = buf.readBigUInt64LE(at);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new ExtractError('zip64 value out of range');
  return Number(n);
}
