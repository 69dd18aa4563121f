import type { Readable } from 'node:stream';
import { type ExtractContext, ExtractError } from './extractor.ts';
import { StreamReader } from './stream-reader.ts';

/** One tar member. Its body can be read once, before asking for the next member. */
export interface TarEntry {
  /** Normalised path: no leading `./` or `/`, no empty segments. */
  path: string;
  /** False when the stored path is absolute or climbs with `..`; such members never match a lookup. */
  safe: boolean;
  type: 'file' | 'dir' | 'link' | 'other';
  size: number;
  /** The body, at most `maxFileBytes`; throws `ExtractError` when the member is larger. */
  read(): Promise<Buffer>;
}

const BLOCK = 512;
const MAX_META_BYTES = 64 * 1024;

/**
 * Stream the members of a (decompressed) tar archive: ustar, GNU long names
 * and pax path/size records. Headers are checksum-verified; a truncated or
 * corrupt archive throws `ExtractError`. An archive that simply stops without
 * the two zero blocks ends quietly, because apk packages are cut tars.
 * Every header is charged to the entry budget.
 */
export async function* readTar(stream: Readable, ctx: ExtractContext): AsyncGenerator<TarEntry> {
  const reader = new StreamReader(stream);
  let longName: string | undefined;
  let paxPath: string | undefined;
  let paxSize: number | undefined;
  try {
    for (;;) {
      const header = await reader.read(BLOCK);
      if (header.length === 0) return;
      if (header.length < BLOCK) throw new ExtractError('truncated tar header');
      if (isZero(header)) return;
      ctx.budget.chargeEntry();
      verifyChecksum(header);
      const flag = String.fromCharCode(header[156] || 0x30);
      const size = paxSize ?? parseNumber(header.subarray(124, 136));
      const padded = Math.ceil(size / BLOCK) * BLOCK;

      if (flag === 'L' || flag === 'x' || flag === 'g' || flag === 'K') {
        if (size > MAX_META_BYTES) throw new ExtractError('oversized tar extended header');
        const body = await readExact(reader, size);
        await skipExact(reader, padded - size);
        if (flag === 'L') longName = cString(body);
        if (flag === 'x') ({ path: paxPath, size: paxSize } = parsePax(body));
        continue;
      }

      const rawPath = paxPath ?? longName ?? ustarName(header);
      longName = paxPath = paxSize = undefined;
      let consumed = false;
      const entry: TarEntry = {
        ...normalisePath(rawPath),
        type:
          flag === '0' || flag === '7'
            ? 'file'
            : flag === '5'
              ? 'dir'
              : flag === '1' || flag === '2'
                ? 'link'
                : 'other',
        size,
        read: async () => {
          if (consumed) throw new Error('tar entry body already read');
          if (size > ctx.limits.maxFileBytes) {
            throw new ExtractError(
              `${rawPath} is ${size} bytes, over the ${ctx.limits.maxFileBytes} byte limit`,
            );
          }
          consumed = true;
          const body = await readExact(reader, size);
          await skipExact(reader, padded - size);
          return body;
        },
      };
      yield entry;
      if (!consumed) await skipExact(reader, padded);
    }
  } finally {
    reader.close();
  }
}

/** Strip `./` and duplicate slashes; mark absolute and `..` paths unsafe. */
export function normalisePath(raw: string): { path: string; safe: boolean } {
  const segments = raw.split('/');
  const safe = !raw.startsWith('/') && !segments.includes('..') && !raw.includes('\\') && !raw.includes('\0');
  const path = segments.filter((s) => s !== '' && s !== '.').join('/');
  return { path, safe };
}

async function readExact(reader: StreamReader, n: number): Promise<Buffer> {
  const buf = await reader.read(n);
  if (buf.length < n) throw new ExtractError('truncated tar member');
  return buf;
}

async function skipExact(reader: StreamReader, n: number): Promise<void> {
  if ((await reader.skip(n)) < n) throw new ExtractError('truncated tar member');
}

function isZero(block: Buffer): boolean {
  for (let i = 0; i < block.length; i++) if (block[i] !== 0) return false;
  return true;
}

function verifyChecksum(header: Buffer): void {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i];
  const stored = parseNumber(header.subarray(148, 156));
  if (stored !== sum) throw new ExtractError('corrupt tar header (checksum mismatch)');
}

/** Octal, NUL/space terminated, or GNU base-256 when the high bit is set. */
function parseNumber(field: Buffer): number {
  if (field[0] & 0x80) {
    let n = field[0] & 0x7f;
    for (let i = 1; i < field.length; i++) n = n * 256 + field[i];
    if (!Number.isSafeInteger(n)) throw new ExtractError('tar number out of range');
    return n;
  }
  const text = field
    .toString('latin1')
    .replace(/[\0 ]+$/g, '')
    .trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new ExtractError('corrupt tar header (bad number)');
  return Number.parseInt(text, 8);
}

function cString(buf: Buffer): string {
  const nul = buf.indexOf(0);
  return buf.subarray(0, nul === -1 ? buf.length : nul).toString('utf8');
}

function ustarName(header: Buffer): string {
  const name = cString(header.subarray(0, 100));
  const isUstar = header.subarray(257, 262).toString('latin1') === 'ustar';
  const prefix = isUstar ? cString(header.subarray(345, 500)) : '';
  return prefix ? `${prefix}/${name}` : name;
}

/** pax records: `<len> <key>=<value>\n`. Only `path` and `size` matter here. */
function parsePax(body: Buffer): { path?: string; size?: number } {
  const out: { path?: string; size?: number } = {};
  let pos = 0;
  while (pos < body.length) {
    const space = body.indexOf(0x20, pos);
    if (space === -1) break;
    const len = Number.parseInt(body.subarray(pos, space).toString('latin1'), 10);
    if (!Number.isInteger(len) || len <= 0 || pos + len > body.length)
      throw new ExtractError('corrupt pax header');
    const record = body.subarray(space + 1, pos + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    const key = record.slice(0, eq);
    const value = record.slice(eq + 1);
    if (key === 'path') out.path = value;
    if (key === 'size') {
      const size = Number(value);
      if (!Number.isSafeInteger(size) || size < 0) throw new ExtractError('corrupt pax size');
      out.size = size;
    }
    pos += len;
  }
  return out;
}
