/**
 * Operator entry point: settings from the environment, wiring only.
 * See docs/operator.md for every variable.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { KubeConfig } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { createLogger, type LogLevel } from '../../proxy/src/http/logger.ts';
import { createOperator } from './operator.ts';

const env = process.env;
const saNamespaceFile = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';
const namespace =
  env.ORCHARD_OPERATOR_NAMESPACE || env.POD_NAMESPACE || readNamespaceFile() || 'orchard-system';
const proxyUrl = env.ORCHARD_OPERATOR_PROXY_URL || undefined;
const logger = createLogger({
  level: (env.ORCHARD_LOG_LEVEL as LogLevel) || 'info',
  fields: { service: 'orchard-operator' },
});

const kubeConfig = new KubeConfig();
kubeConfig.loadFromDefault();

const operator = createOperator({
  kubeConfig,
  namespace,
  identity: env.POD_NAME || hostname(),
  logger,
  registry: new Registry(),
  proxyUrl,
  mirror: {
    url: env.ORCHARD_OPERATOR_MIRROR_URL || proxyUrl || 'http://127.0.0.1:8080',
    skipVerify: /^(1|true|yes)$/i.test(env.ORCHARD_OPERATOR_MIRROR_SKIP_VERIFY ?? ''),
  },
  extraSecretNamespaces: (env.ORCHARD_OPERATOR_SECRET_NAMESPACES ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
  health: {
    host: env.ORCHARD_OPERATOR_HEALTH_HOST || '0.0.0.0',
    port: Number(env.ORCHARD_OPERATOR_HEALTH_PORT || 8081),
  },
  lease: { name: env.ORCHARD_OPERATOR_LEASE_NAME || 'orchard-operator' },
  tuning: { statsIntervalMs: Number(env.ORCHARD_OPERATOR_STATS_INTERVAL_SECONDS || 60) * 1000 },
});

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info('shutting down; releasing the leader Lease', { signal });
  const timer = setTimeout(() => process.exit(1), 10_000);
  timer.unref();
  await operator.stop();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

await operator.start();
logger.info('operator started', { namespace, proxyUrl, healthPort: operator.healthPort() });

function readNamespaceFile(): string | undefined {
  try {
    return readFileSync(saNamespaceFile, 'utf8').trim();
  } catch {
    return undefined;
  }
}
