import type { ArtifactSource, ExtractContext } from '../extractor.ts';
import { ExtractError } from '../extractor.ts';

export interface ArMember {
  name: string;
  /** Offset of the member's data in the archive. */
  offset: number;
  size: number;
}

const MAGIC = '!<arch>\n';
const HEADER = 60;

export function looksLikeAr(head: Buffer): boolean {
  return head.subarray(0, 8).toString('latin1') === MAGIC;
}

/**
 * Walk the members of an ar archive (the container of a `.deb`) by reading
 * only their 60-byte headers. Each header costs one entry of budget.
 */
export async function* listAr(source: ArtifactSource, ctx: ExtractContext): AsyncGenerator<ArMember> {
  let pos = 8;
  while (pos + HEADER <= source.size) {
    ctx.budget.chargeEntry();
    const header = await source.read(pos, HEADER);
    if (header.subarray(58, 60).toString('latin1') !== '`\n')
      throw new ExtractError('corrupt ar member header');
    const sizeText = header.subarray(48, 58).toString('latin1').trim();
    if (!/^\d+$/.test(sizeText)) throw new ExtractError('corrupt ar member size');
    const size = Number(sizeText);
    const offset = pos + HEADER;
    if (offset + size > source.size) throw new ExtractError('truncated ar member');
    // GNU ar terminates names with '/'; Debian's dpkg-deb writes them bare.
    const name = header.subarray(0, 16).toString('latin1').trim().replace(/\/$/, '');
    yield { name, offset, size };
    pos = offset + size + (size % 2);
  }
}
