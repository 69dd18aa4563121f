import { MIN_PART_SIZE, type PartInfo } from './blob-store.ts';
import { InvalidArgumentError, NotFoundError } from './errors.ts';

/**
 * The parts `partNumbers` names, in that order, checked against S3's rules so
 * every backend completes (or refuses) the same sessions: each listed part must
 * exist (`NotFoundError`) and each but the last must be at least
 * `MIN_PART_SIZE` bytes (`InvalidArgumentError`). `base.ts` has already checked
 * that the numbers ascend.
 */
export function selectParts(opts: {
  key: string;
  backend: string;
  parts: PartInfo[];
  partNumbers: number[];
}): PartInfo[] {
  const { key, backend, partNumbers } = opts;
  const byNumber = new Map(opts.parts.map((p) => [p.partNumber, p]));
  return partNumbers.map((n, i) => {
    const part = byNumber.get(n);
    if (!part) throw new NotFoundError({ key, backend, detail: `part ${n}` });
    if (i < partNumbers.length - 1 && part.size < MIN_PART_SIZE) {
      throw new InvalidArgumentError({
        key,
        backend,
        reason: `part ${n} is ${part.size} bytes; every part but the last needs at least ${MIN_PART_SIZE}`,
      });
    }
    return part;
  });
}
