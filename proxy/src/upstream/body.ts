/**
 * A whole body of at most `max` bytes, or `undefined` when it is longer (the
 * stream is then destroyed). For small documents only: token responses, tag
 * lists, index pages, manifests. A stream error rejects.
 */
export async function readAtMost(
  body: AsyncIterable<unknown> & { destroy(): void },
  max: number,
): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of body) {
    const chunk = c as Buffer;
    size += chunk.length;
    if (size > max) {
      body.destroy();
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
