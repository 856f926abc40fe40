/**
 * Process entry: configuration, storage, the app, listening, graceful shutdown.
 * `npm start` runs this with no environment at all: port 8080, SQLite and files under ./data.
 */
import { mkdirSync } from 'node:fs';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createLogger } from './logger.js';
import { createStore } from './store/index.js';
import { createBus } from './bus/index.js';
import { buildApp } from './app.js';
import { bootstrap } from './api/index.js';
import { repairRecordings } from './session/index.js';
import { loadSecrets } from './secrets.js';
import { startDialer } from './campaigns/index.js';
import { startSttThread } from './providers/stt/deepgram-threaded.js';
import { loadSilero } from './vad/index.js';

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`voxgate: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config);
  mkdirSync(config.dataDir, { recursive: true });

  const store = await createStore(config);
  await store.migrate();
  const bus = await createBus(config);
  const repaired = await repairRecordings(config.dataDir, store, log);
  const { secrets, source: secretsSource } = await loadSecrets(config, store, log);
  const { app, ctx } = await buildApp({ config, store, bus, logger: log, secrets });
  const boot = await bootstrap(ctx);

  const stopDialer = startDialer(ctx);
  const address = await app.listen({ port: config.port, host: config.host });
  // The pipeline's worker threads boot now rather than during the first call. A model that
  // cannot load is reported by that call (createVad), which falls back to the energy detector.
  if (config.providers.deepgram.apiKey) startSttThread();
  loadSilero().catch(() => {});
  const publicWs = config.publicUrl.replace(/^http/, 'ws');
  log.info(
    {
      listen: address,
      publicUrl: config.publicUrl,
      twilioVoiceWebhook: `${config.publicUrl}/twilio/voice`,
      twilioStatusCallback: `${config.publicUrl}/twilio/status`,
      mediaStream: `${publicWs}/twilio/media`,
      docs: `${config.publicUrl}/docs`,
      store: store.kind,
      bus: bus.kind,
      dataDir: config.dataDir,
      secretsKey: secretsSource,
      adminKeyFile: boot.adminKeyFile,
      recordingsRepaired: repaired,
    },
    'voxgate listening',
  );

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, liveCalls: ctx.calls.size, deadlineMs: config.shutdownDeadlineMs }, 'draining');
    ctx.draining = true;
    try {
      await stopDialer();
      await ctx.calls.drain(config.shutdownDeadlineMs);
      await app.close();
      await bus.close();
      await store.close();
      log.info('stopped');
      process.exit(0);
    } catch (err) {
      log.error({ err }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err) => {
  process.stderr.write(`voxgate: fatal: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
