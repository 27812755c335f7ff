/**
 * The controller process: configuration, store, Docker runtime, reconcile loop and HTTP API.
 * SIGTERM or SIGINT stops taking requests and work, lets the step in flight finish (or gives
 * it up once it is clearly stuck), and exits without touching any container.
 */
import type { Server } from 'node:http';
import { ensureAdminToken } from './admin-token.js';
import { createApp } from './api/app.js';
import type { RuntimeObserver } from './api/procedure.js';
import { type Config, loadConfig } from './config.js';
import { ObservationCache } from './controller/cache.js';
import { Controller } from './controller/controller.js';
import { Reconciler } from './controller/reconciler.js';
import { createLogger, type Logger } from './logger.js';
import { DockerRuntime } from './runtime/docker/runtime.js';
import { hostPortProbe } from './runtime/host-ports.js';
import { RuntimeRegistry } from './runtime/registry.js';
import { Store } from './store/store.js';

export interface Running {
  server: Server;
  controller: Controller;
  store: Store;
  /** The port the API listens on (useful when PORT=0). */
  port: number;
  stop(): Promise<void>;
}

export async function startController(config: Config, logger: Logger): Promise<Running> {
  const store = new Store({ dataDir: config.dataDir, secretKey: config.secretKey });
  store.projects.seedDefaults();
  ensureAdminToken(store, config, logger);

  const ownerId = store.ownerId();
  const local = new DockerRuntime({ dockerHost: config.dockerHost, ownerId });
  const runtimes = new RuntimeRegistry(store, local, ownerId);
  const cache = new ObservationCache();
  const reconciler = new Reconciler({
    store,
    runtimes,
    cache,
    logger,
    publishHost: config.publishHost,
    stopTimeoutSeconds: config.stopTimeoutSeconds,
    readyTimeoutMs: config.readyTimeoutMs,
  });
  const controller = new Controller({
    store,
    runtime: runtimes,
    cache,
    reconciler,
    logger,
    workers: config.reconcileWorkers,
    resyncIntervalMs: config.resyncIntervalMs,
  });
  controller.start();

  const observer: RuntimeObserver = {
    async logs(record, options) {
      const runtime = runtimes.for(record.serverId);
      const container = await runtime.findContainer(record.appName);
      return container ? runtime.logs(container.id, options.tail, options.sinceSeconds) : null;
    },
  };
  // The host's ports can be checked only when the engine runs on this machine.
  const localEngine = config.dockerHost.startsWith('unix://') || config.dockerHost.startsWith('/');
  const portProbe = localEngine ? hostPortProbe(config.publishHost) : null;
  const app = createApp({ store, logger, observer, portProbe, runtimes });
  const server = await new Promise<Server>((resolve, reject) => {
    const listening = app.listen(config.port, config.host, () => resolve(listening));
    listening.once('error', reject);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info({ host: config.host, port, dataDir: config.dataDir }, 'API listening');

  return {
    server,
    controller,
    store,
    port,
    async stop(): Promise<void> {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await controller.stop();
      store.close();
    },
  };
}

/** Time beyond the stop timeout that SIGTERM waits for the step in flight. */
const SHUTDOWN_MARGIN_SECONDS = 10;

async function main(): Promise<void> {
  // Everything the controller writes (database, key file, token) is for its eyes only.
  process.umask(0o077);
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(2);
  }
  const logger = createLogger(config.logLevel);
  const running = await startController(config, logger);

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    // The step in flight may be a graceful Redis stop, which takes up to the stop timeout; one
    // that takes longer is stuck on an engine that does not answer, and is abandoned: what it
    // left half done is finished by the next start, as after a crash.
    const graceMs = (config.stopTimeoutSeconds + SHUTDOWN_MARGIN_SECONDS) * 1000;
    setTimeout(() => {
      logger.error({ graceMs }, 'the step in flight did not finish in time; exiting without it');
      process.exit(1);
    }, graceMs).unref();
    running.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

const isEntryPoint =
  process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isEntryPoint) {
  main().catch((error: unknown) => {
    process.stderr.write(`redis-controller failed to start: ${(error as Error).message}\n`);
    process.exit(1);
  });
}
