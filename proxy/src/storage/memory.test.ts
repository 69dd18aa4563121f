import { Registry } from 'prom-client';
import { wrapBlobStore } from './base.ts';
import { describeBlobStoreConformance, openUploadsCheck } from './conformance.ts';
import { MemoryBlobStore } from './memory.ts';

const memory = new MemoryBlobStore();
describeBlobStoreConformance('memory', async () => wrapBlobStore(memory, { registry: new Registry() }), {
  ...openUploadsCheck(memory),
});
