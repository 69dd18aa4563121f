import type { ArtifactSource, ExtractContext, FormatMetadata, MetadataExtractor } from '../extractor.ts';
import { ExtractError } from '../extractor.ts';
import { compact } from '../text.ts';

const LEAD_SIZE = 96;
const LEAD_MAGIC = 0xedabeedb;
const HEADER_MAGIC = 0x8eade801;
const MAX_INDEX_ENTRIES = 65_536;

const TAG = {
  name: 1000,
  version: 1001,
  release: 1002,
  epoch: 1003,
  summary: 1004,
  size: 1009,
  license: 1014,
  group: 1016,
  url: 1020,
  os: 1021,
  arch: 1022,
  sourcerpm: 1044,
  requirename: 1049,
} as const;

const TYPE_INT32 = 4;
const TYPE_STRING = 6;
const TYPE_STRING_ARRAY = 8;
const TYPE_I18NSTRING = 9;

/** `.rpm`: the lead, the signature header (skipped) and the main header's tags. The payload is never read. */
export const rpmExtractor: MetadataExtractor = {
  name: 'rpm',
  claim: ({ head }) => (head.length >= 4 && head.readUInt32BE(0) === LEAD_MAGIC ? 10 : 0),
  extract: async (source, ctx) => {
    if (source.size < LEAD_SIZE) throw new ExtractError('truncated rpm lead');
    const signature = await readHeader(source, LEAD_SIZE, ctx);
    const mainOffset = LEAD_SIZE + align8(signature.length);
    return describe(await readHeader(source, mainOffset, ctx));
  },
};

interface Header {
  index: Buffer;
  store: Buffer;
  /** Bytes the header occupies on disk (intro + index + store). */
  length: number;
}

async function readHeader(source: ArtifactSource, offset: number, ctx: ExtractContext): Promise<Header> {
  const intro = await source.read(offset, 16);
  if (intro.length < 16 || intro.readUInt32BE(0) !== HEADER_MAGIC)
    throw new ExtractError('corrupt rpm header');
  const count = intro.readUInt32BE(8);
  const storeSize = intro.readUInt32BE(12);
  if (count > MAX_INDEX_ENTRIES) throw new ExtractError(`rpm header has too many tags (${count})`);
  for (let i = 0; i < count; i++) ctx.budget.chargeEntry();
  const length = 16 + count * 16 + storeSize;
  if (offset + length > source.size) throw new ExtractError('truncated rpm header');
  const body = await source.read(offset + 16, count * 16 + storeSize);
  return { index: body.subarray(0, count * 16), store: body.subarray(count * 16), length };
}

function describe(h: Header): FormatMetadata {
  const name = str(h, TAG.name);
  if (!name) throw new ExtractError('rpm header has no NAME');
  const epoch = int(h, TAG.epoch);
  return compact({
    package_name: name,
    version: str(h, TAG.version),
    release: str(h, TAG.release),
    epoch,
    architecture: str(h, TAG.arch),
    os: str(h, TAG.os),
    summary: str(h, TAG.summary),
    license: str(h, TAG.license),
    group: str(h, TAG.group),
    url: str(h, TAG.url),
    installed_size: int(h, TAG.size),
    source_rpm: str(h, TAG.sourcerpm),
    requires: strings(h, TAG.requirename)?.filter((r) => !r.startsWith('rpmlib(')),
  });
}

function find(h: Header, tag: number): { type: number; offset: number; count: number } | undefined {
  for (let i = 0; i < h.index.length; i += 16) {
    if (h.index.readUInt32BE(i) !== tag) continue;
    const offset = h.index.readInt32BE(i + 8);
    if (offset < 0 || offset >= h.store.length)
      throw new ExtractError(`rpm tag ${tag} points outside the header`);
    return { type: h.index.readUInt32BE(i + 4), offset, count: h.index.readUInt32BE(i + 12) };
  }
  return undefined;
}

function str(h: Header, tag: number): string | undefined {
  const e = find(h, tag);
  if (!e || (e.type !== TYPE_STRING && e.type !== TYPE_I18NSTRING && e.type !== TYPE_STRING_ARRAY))
    return undefined;
  return cString(h.store, e.offset);
}

function strings(h: Header, tag: number): string[] | undefined {
  const e = find(h, tag);
  if (!e || e.type !== TYPE_STRING_ARRAY) return undefined;
  const out: string[] = [];
  let pos = e.offset;
  for (let i = 0; i < e.count && pos < h.store.length; i++) {
    const end = h.store.indexOf(0, pos);
    if (end === -1) throw new ExtractError('unterminated string in rpm header');
    out.push(h.store.subarray(pos, end).toString('utf8'));
    pos = end + 1;
  }
  return out;
}

function int(h: Header, tag: number): number | undefined {
  const e = find(h, tag);
  if (!e || e.type !== TYPE_INT32 || e.offset + 4 > h.store.length) return undefined;
  return h.store.readUInt32BE(e.offset);
}

function cString(buf: Buffer, at: number): string {
  const end = buf.indexOf(0, at);
  if (end === -1) throw new ExtractError('unterminated string in rpm header');
  return buf.subarray(at, end).toString('utf8');
}

function align8(n: number): number {
  return Math.ceil(n / 8) * 8;
}
