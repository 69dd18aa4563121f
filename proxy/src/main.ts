// Wiring only: settings from the environment, one proxy, signal handling.
import './gc-tuning.ts';
import { createLogger } from './http/logger.ts';
import { loadSettings } from './settings.ts';
import { startProxy } from './start.ts';

const settings = loadSettings();
const logger = createLogger({ level: settings.logLevel });

try {
  const proxy = await startProxy(settings, { logger });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    await proxy.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
} catch (err) {
  logger.error('failed to start', { error: err as Error });
  process.exit(1);
}
