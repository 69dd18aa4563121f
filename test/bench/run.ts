// `npm run bench`: runs every test/bench/*.bench.ts module (or those named on
// the command line) and prints each figure beside a baseline measured in the
// same run, as a ratio. Machines are shared and noisy: ratios, not absolute
// times, are what the targets in the issues refer to.
import { readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BenchModule, BenchResult } from './types.ts';

const dir = import.meta.dirname;
const only = process.argv.slice(2);
const files = (await readdir(dir)).filter((f) => f.endsWith('.bench.ts')).sort();
const results: BenchResult[] = [];
let failed = false;

for (const file of files) {
  const name = basename(file, '.bench.ts');
  if (only.length > 0 && !only.includes(name)) continue;
  const mod = (await import(pathToFileURL(join(dir, file)).href)) as { default: BenchModule };
  process.stdout.write(`\n== ${name}\n`);
  try {
    for (const r of await mod.default({ log: (m) => process.stdout.write(`   ${m}\n`) })) {
      results.push(r);
      printResult(r);
    }
  } catch (err) {
    failed = true;
    process.stdout.write(`   FAILED: ${(err as Error).stack}\n`);
  }
}

process.stdout.write('\n== summary\n');
for (const r of results) printResult(r);
process.exit(failed ? 1 : 0);

function printResult(r: BenchResult): void {
  const fmt = (v: number) => `${v.toFixed(v < 10 ? 2 : 0)} ${r.unit}`;
  const ratio = r.baseline ? r.value / r.baseline.value : undefined;
  const verdict =
    r.target === undefined || (ratio === undefined && r.targetKind !== 'max')
      ? ''
      : meets(r, ratio)
        ? '  [meets target]'
        : '  [BELOW target]';
  const against = r.baseline
    ? ` vs ${r.baseline.name} ${fmt(r.baseline.value)} → ratio ${ratio!.toFixed(2)}`
    : '';
  const target =
    r.target === undefined
      ? ''
      : ` (target ${r.targetKind === 'max' ? '<' : r.targetKind === 'exact' ? '=' : '≥'} ${r.target})`;
  process.stdout.write(`   ${r.name}: ${fmt(r.value)}${against}${target}${verdict}\n`);
}

function meets(r: BenchResult, ratio: number | undefined): boolean {
  if (r.targetKind === 'max') return r.value < r.target!;
  if (r.targetKind === 'exact') return r.value === r.target;
  return (ratio ?? r.value) >= r.target!;
}
