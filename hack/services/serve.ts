/**
 * `node hack/services/serve.ts [postgres redis s3]`: starts the test services (all by
 * default) and prints their variables as `export` lines, then keeps them up until
 * Ctrl-C or SIGTERM. For running vitest by hand, e.g. in watch mode:
 *   node hack/services/serve.ts > .tmp/env.sh &   then   . .tmp/env.sh && npx vitest test/coord
 */
import { SERVICE_NAMES, type ServiceName, startServices } from './index.ts';

const asked = process.argv.slice(2);
const unknown = asked.filter((n) => !SERVICE_NAMES.includes(n as ServiceName));
if (unknown.length) {
  console.error(`unknown service ${unknown.join(', ')}; known: ${SERVICE_NAMES.join(', ')}`);
  // 2: a usage error, as shell tools report it.
  process.exit(2);
}
const services = await startServices(asked.length ? (asked as ServiceName[]) : SERVICE_NAMES);
for (const [k, v] of Object.entries(services.env)) console.log(`export ${k}='${v}'`);
console.error('services are up; Ctrl-C stops them');
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    // Asked to stop and did: a clean exit, whether or not every service stopped quietly.
    services.stop().finally(() => process.exit(0));
  });
}
setInterval(() => {}, 1 << 30);
