// A TestUpstream as its own process, for benchmarks: the bench process then
// measures without also generating the upstream's bytes on its own thread.
//   node test/upstreams/serve.ts '{"/big.bin":{"size":1073741824,"seed":1}, "/small.bin":{"size":4096,"seed":2}}'
// Paths ending in `*` serve every path with that prefix (each its own content).
// Prints `listening <port>` when ready.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generatedStream } from './server.ts';

const files = JSON.parse(process.argv[2] ?? '{}') as Record<string, { size: number; seed: number }>;

const server = createServer((req, res) => {
  const path = (req.url ?? '/').split('?')[0]!;
  let file = files[path];
  if (!file) {
    const prefix = Object.keys(files).find((p) => p.endsWith('*') && path.startsWith(p.slice(0, -1)));
    if (prefix) file = { ...files[prefix]!, seed: files[prefix]!.seed + hash(path) };
  }
  if (!file) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(file.size) });
  if (req.method === 'HEAD') return void res.end();
  generatedStream(file).pipe(res);
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
});

function hash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0;
  return h & 0xffff;
}
