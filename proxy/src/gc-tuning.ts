// Imported first by main.ts, before any other module loads: see ADR 009.
//
// Every chunk read from a socket or a file is a fresh ArrayBuffer, so moving a
// 1 GiB body allocates 1 GiB of "external" memory. By default V8 starts a full
// mark-compact whenever external memory grows by a fixed soft limit, about
// every 16–20 MiB streamed, and each of those marks the whole live heap (~25 MiB
// of modules and config here): a cold 1 GiB fill ran ~55 major GCs costing
// ~1.7 s of CPU. Accounting external memory in V8's global limit instead lets
// it grow with the heap like everything else: 2 major GCs per GiB, while young
// buffers are still freed and RSS stays bounded (see the bench's peak-RSS figure).
import { setFlagsFromString } from 'node:v8';

if (process.env.ORCHARD_GC_TUNING !== 'off') {
  setFlagsFromString('--external-memory-accounted-in-global-limit');
}
