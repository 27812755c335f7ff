/**
 * The controller under measurement, run in this process as test/support/controller.ts runs it:
 * its own data directory, the API on 127.0.0.1 port 0, ports published on 127.0.0.1, and a log
 * file instead of stdout. Also the settings, the calls, the waits and the cleanup the benchmarks
 * share with the built controller run as a child process (controller-process.ts).
 */
import path from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { type Running, startController } from '../../src/main.js';
import { dockerFromHost } from '../../src/runtime/docker/client.js';
import { type ApiClient, apiClient } from '../support/api.js';

export const API_TOKEN = 'bench-token-0123456789abcdef';

/**
 * A periodic resync landing in the middle of a measurement would be measured with it; the
 * benchmark runs its resyncs by hand, so the timer is pushed past the whole run.
 */
const RESYNC_INTERVAL_MS = 60 * 60 * 1000;

/** How often the waits look again. */
const POLL_MS = 20;

export interface BenchController {
  running: Running;
  client: ApiClient;
  environmentId: string;
  /** Labelled on every container and volume this controller creates. */
  ownerId: string;
  logFile: string;
}

/**
 * The controller's settings for a benchmark, as the environment variables a user would set:
 * `port` 0 lets the system choose, which only a caller that can ask the server for it may use.
 */
export function benchSettings(
  dockerHost: string,
  dataDir: string,
  port: number,
): Record<string, string> {
  return {
    HOST: '127.0.0.1',
    PORT: String(port),
    DATA_DIR: dataDir,
    DOCKER_HOST: dockerHost,
    PUBLISH_HOST: '127.0.0.1',
    API_TOKEN,
    // Warnings and errors only: a debug line per reconcile would be measured as controller CPU.
    LOG_LEVEL: 'warn',
    RESYNC_INTERVAL_MS: String(RESYNC_INTERVAL_MS),
    READY_TIMEOUT_MS: '30000',
    STOP_TIMEOUT_SECONDS: '10',
  };
}

export async function startBenchController(
  dockerHost: string,
  dataDir: string,
): Promise<BenchController> {
  const config = loadConfig(benchSettings(dockerHost, dataDir, 0));
  const logFile = path.join(dataDir, 'controller.log');
  const logger = createLogger(config.logLevel, pino.destination({ dest: logFile, sync: true }));
  const running = await startController(config, logger);
  const environmentId =
    running.store.projects.listProjects()[0]?.environments[0]?.environmentId ?? '';
  return {
    running,
    client: apiClient(`http://127.0.0.1:${running.port}`, API_TOKEN),
    environmentId,
    ownerId: running.store.ownerId(),
    logFile,
  };
}

/** Calls the API and returns the answer's body; any status but 200 is an error. */
export async function call<T>(client: ApiClient, verb: string, input: unknown): Promise<T> {
  const response = await client.post(`/api/${verb}`, input);
  if (response.status !== 200) {
    throw new Error(`${verb} answered ${response.status}: ${JSON.stringify(response.body)}`);
  }
  return response.body as T;
}

/** Calls a query verb with GET and returns the answer's body; any status but 200 is an error. */
export async function query<T>(
  client: ApiClient,
  verb: string,
  input: Record<string, string> = {},
): Promise<T> {
  const search = new URLSearchParams(input).toString();
  const response = await client.get(`/api/${verb}${search ? `?${search}` : ''}`);
  if (response.status !== 200) {
    throw new Error(`${verb} answered ${response.status}: ${JSON.stringify(response.body)}`);
  }
  return response.body as T;
}

/**
 * Polls `done` every `intervalMs` until it holds; fails naming `what` after `timeoutMs`. A check
 * that costs the controller real work (a listing of every record) should be made less often.
 */
export async function waitUntil(
  what: string,
  done: () => boolean | Promise<boolean>,
  timeoutMs: number,
  intervalMs = POLL_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting ${what}`);
    await sleep(intervalMs);
  }
}

export const sleep = (durationMs: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, durationMs));

/**
 * Removes every container and volume labelled with `label=value`: the controller's owner label
 * or the benchmark's own. Nothing else on the shared engine matches either.
 */
export async function removeLabelled(
  engineHost: string,
  label: string,
  value: string,
): Promise<number> {
  const docker = dockerFromHost(engineHost);
  const filters = { label: [`${label}=${value}`] };
  let removed = 0;
  for (const container of await docker.listContainers({ all: true, filters })) {
    await docker.getContainer(container.Id).remove({ force: true, v: true });
    removed++;
  }
  const { Volumes } = await docker.listVolumes({ filters });
  for (const volume of Volumes ?? []) {
    await docker.getVolume(volume.Name).remove();
    removed++;
  }
  return removed;
}
