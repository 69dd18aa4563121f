/**
 * Value mapping shared by both engines, so a row reads the same whichever
 * engine produced it: int8/bigint → number (Orchard's bigints are sizes,
 * counts and ids, all far below 2^53), bytea → Buffer, timestamptz → Date,
 * json/jsonb → parsed value, numeric → string.
 */

/** OIDs of the built-in types whose parsing we override. */
export const OID = { int8: 20, bytea: 17, int8Array: 1016, int4Array: 1007 } as const;

/** Parse an int8 as a JS number; refuse values that a number cannot hold exactly rather than corrupt them. */
export function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) {
    throw new RangeError(
      `int8 value ${text} is outside the exactly representable range; cast it to text or numeric`,
    );
  }
  return n;
}

/** Decode PostgreSQL's text form of bytea (`\x0102…`). */
export function parseBytea(text: string): Buffer {
  if (text.startsWith('\\x')) return Buffer.from(text.slice(2), 'hex');
  throw new Error('unexpected bytea output format; set bytea_output = hex');
}
