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
import { createMetrics } from './metrics/index.js';
import { installProcessGuard } from './faults/index.js';
import { warmUpLlmClient } from './providers/llm/warm-up.js';

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
  const metrics = createMetrics();
  // Before anything touches the store or the bus: an escaped rejection is logged and counted,
  // never the end of the node and its live calls (faults/process-guard.ts).
  installProcessGuard({ log, errors: metrics.faults.processErrors });
  mkdirSync(config.dataDir, { recursive: true });

  const store = await createStore(config);
  await store.migrate();
  const bus = await createBus(config);
  const repaired = await repairRecordings(config.dataDir, store, log);
  const { secrets, source: secretsSource } = await loadSecrets(config, store, log);
  const { app, ctx } = await buildApp({ config, store, bus, logger: log, secrets, metrics });
  const boot = await bootstrap(ctx);

  const stopDialer = startDialer(ctx);
  await app.listen({ port: config.port, host: config.host });
  // Issue 19: the address really bound (Fastify's return value is only the first interface,
  // e.g. 127.0.0.1 for 0.0.0.0, and PORT=0 picks a port only the socket knows).
  const { listen, port, consoleUrl } = boundAddress(app.server.address(), config);
  // The pipeline's worker threads boot now rather than during the first call. A model that
  // cannot load is reported by that call (createVad), which falls back to the energy detector.
  if (config.providers.deepgram.apiKey) startSttThread();
  loadSilero().catch(() => {});
  // So is the HTTP client of the first LLM request (providers/llm/warm-up.ts).
  warmUpLlmClient(`${selfUrl(app.server.address(), port)}/healthz`).catch((err: Error) => log.debug({ err: err.message }, 'LLM client warm-up failed'));
  const publicWs = config.publicUrl.replace(/^http/, 'ws');
  log.info(
    {
      listen,
      console: consoleUrl,
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
  if (config.twilio.accountSid && config.twilio.authToken && isLocalUrl(config.publicUrl)) {
    log.warn(
      { publicUrl: config.publicUrl, mediaStream: `${publicWs}/twilio/media`, port },
      'Twilio is configured but PUBLIC_URL is a local address: Twilio cannot reach it, and the TwiML would hand it ws://localhost. Set PUBLIC_URL to the https:// address Twilio can reach (e.g. a tunnel)',
    );
  }

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

/** `host:port` the socket is bound to, and where a person on this machine opens the console. */
function boundAddress(addr: ReturnType<import('node:net').Server['address']>, config: Config): { listen: string; port: number; consoleUrl: string } {
  if (!addr || typeof addr === 'string') return { listen: String(addr), port: config.port, consoleUrl: `${config.publicUrl}/console` };
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  // The default PUBLIC_URL carries PORT, which is 0 when the OS picked the port.
  const base = isLocalUrl(config.publicUrl) ? `http://localhost:${addr.port}` : config.publicUrl.replace(/\/+$/, '');
  return { listen: `${host}:${addr.port}`, port: addr.port, consoleUrl: `${base}/console` };
}

/** This gateway as a client on this machine reaches it: the bound address, loopback for a wildcard. */
function selfUrl(addr: ReturnType<import('node:net').Server['address']>, port: number): string {
  const a = addr && typeof addr !== 'string' ? addr.address : '127.0.0.1';
  const host = a === '0.0.0.0' ? '127.0.0.1' : a === '::' ? '[::1]' : a.includes(':') ? `[${a}]` : a;
  return `http://${host}:${port}`;
}

/** Loopback or unspecified hosts: reachable from this machine only. */
function isLocalUrl(url: string): boolean {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host.endsWith('.localhost') || host === '0.0.0.0' || host === '::' || host === '::1' || /^127\./.test(host);
}

main().catch((err) => {
  process.stderr.write(`voxgate: fatal: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
