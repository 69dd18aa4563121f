// Imported first by main.ts, before any other module loads: see ADR 009.
//
// Every chunk read from a socket or a file is a fresh ArrayBuffer, so moving a
// 1 GiB body allocates 1 GiB of "external" memory, and V8 decides when to run
// a full mark-compact from it. Three measured problems, three remedies:
//
// 1. By default V8 starts a mark-compact whenever external memory grows by a
//    fixed soft limit: about every 16–20 MiB streamed, ~55 per cold GiB, each
//    marking the whole live heap. --external-memory-accounted-in-global-limit
//    counts external memory in V8's global limit instead, which grows with
//    the heap like everything else.
// 2. That global limit is a multiple of what is live. The proxy's live heap
//    is small (~21 MiB on PostgreSQL), so the limit stayed low and a cold GiB
//    still cost ~25 mark-compacts. A ballast (Go's trick before GOMEMLIMIT):
//    one 64 MiB ArrayBuffer that is never touched. V8 counts it as live
//    external memory, so the limit starts higher, but its pages are never
//    written, so it costs no RSS. With it: 0 mark-compacts per cold GiB.
//    It shows in nodejs_external_memory_bytes.
// 3. With many bodies streaming at once, chunks live long enough to reach the
//    old generation, and garbage then waits for a mark-compact that the higher
//    limit makes rare: peak RSS rose from ~400 to 500–800 MiB in the 20-fill
//    bench. So, like GOMEMLIMIT, a soft limit on buffer memory: while
//    ArrayBuffer memory stands more than ORCHARD_GC_BUFFER_HEADROOM_MB
//    (default 192) above the lowest seen (what is live: the ballast, PGlite's
//    memory, the small-blob cache), a concurrent mark-compact is requested,
//    at most every 250 ms, backing off while it does not help.
//
// ORCHARD_GC_TUNING=off leaves V8 on its defaults.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const MiB = 1024 * 1024;
const ballastBytes = 64 * MiB;

export const gcTuning = process.env.ORCHARD_GC_TUNING !== 'off';

if (gcTuning) setFlagsFromString('--external-memory-accounted-in-global-limit');

/** Held for the life of the process; never read or written. */
export const ballast: ArrayBuffer | undefined = gcTuning ? new ArrayBuffer(ballastBytes) : undefined;

type Gc = (opts?: { type?: 'major' | 'minor'; execution?: 'sync' | 'async' }) => void;

if (gcTuning) startSoftLimit(Number(process.env.ORCHARD_GC_BUFFER_HEADROOM_MB ?? 192) * MiB);

function startSoftLimit(headroom: number): void {
  if (!(headroom > 0)) return;
  // The gc() of a fresh context; --expose-gc set now only applies to contexts made after it.
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as Gc;
  const minGapMs = 250;
  let gapMs = minGapMs;
  let last = 0;
  let floor = Number.POSITIVE_INFINITY;
  const timer = setInterval(() => {
    const { arrayBuffers } = process.memoryUsage();
    floor = Math.min(floor, arrayBuffers);
    const now = Date.now();
    if (arrayBuffers - floor <= headroom) {
      gapMs = minGapMs;
      return;
    }
    if (now - last < gapMs) return;
    last = now;
    gc({ type: 'major', execution: 'async' });
    // Above the limit again at the next turn: live memory, not garbage; ask less often.
    gapMs = Math.min(gapMs * 2, 8000);
  }, 100);
  timer.unref();
}
