export interface BenchContext {
  log(message: string): void;
}

/**
 * One measured figure. With a `baseline`, the target applies to value/baseline
 * (targetKind `min`, the default). `max` targets apply to the absolute value
 * (e.g. peak RSS in MiB), `exact` to a count (e.g. upstream GETs).
 */
export interface BenchResult {
  name: string;
  unit: string;
  value: number;
  baseline?: { name: string; value: number };
  target?: number;
  targetKind?: 'min' | 'max' | 'exact';
}

export type BenchModule = (ctx: BenchContext) => Promise<BenchResult[]>;
