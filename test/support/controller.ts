/**
 * Runs the whole controller (API, store, reconcile loop, Docker runtime) in the test process,
 * against the private test engine, with its log written to a file the test can read.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { type Running, startController } from '../../src/main.js';
import { dockerFromHost } from '../../src/runtime/docker/client.js';
import { LABELS } from '../../src/runtime/types.js';
import { type ApiClient, apiClient } from './api.js';
import { secondEngine, testEngine } from './engine.js';
import { freePort } from './resp.js';

export const CONTROLLER_TOKEN = 'controller-test-token-0123456789';

export interface TestController {
  client: ApiClient;
  running: Running;
  dataDir: string;
  logFile: string;
  environmentId: string;
  stop(): Promise<void>;
}

export async function startTestController(
  env: Record<string, string> = {},
): Promise<TestController> {
  const { dockerHost } = testEngine();
  const dataDir = env.DATA_DIR ?? fs.mkdtempSync(path.join(os.tmpdir(), 'rc-e2e-'));
  const logFile = path.join(dataDir, 'controller.log');
  const config = loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    DATA_DIR: dataDir,
    DOCKER_HOST: dockerHost,
    PUBLISH_HOST: '127.0.0.1',
    API_TOKEN: CONTROLLER_TOKEN,
    LOG_LEVEL: 'debug',
    READY_TIMEOUT_MS: '30000',
    STOP_TIMEOUT_SECONDS: '10',
    ...env,
  });
  const logger = createLogger(config.logLevel, pino.destination({ dest: logFile, sync: true }));
  const running = await startController(config, logger);
  const ownerId = running.store.ownerId();
  const environmentId =
    running.store.projects.listProjects()[0]?.environments[0]?.environmentId ?? '';

  return {
    client: apiClient(`http://127.0.0.1:${running.port}`, CONTROLLER_TOKEN),
    running,
    dataDir,
    logFile,
    environmentId,
    stop: async () => {
      await running.stop();
      for (const engine of [dockerHost, secondEngine().dockerHost]) {
        await removeOwnedObjects(engine, ownerId);
      }
    },
  };
}

/**
 * Removes every container and volume this test controller created: each test controller has
 * its own owner id, so nothing of another test file sharing the engine is touched.
 */
async function removeOwnedObjects(dockerHost: string, ownerId: string): Promise<void> {
  const docker = dockerFromHost(dockerHost);
  const filters = { label: [`${LABELS.owner}=${ownerId}`] };
  for (const container of await docker.listContainers({ all: true, filters })) {
    await docker.getContainer(container.Id).remove({ force: true, v: true });
  }
  const { Volumes } = await docker.listVolumes({ filters });
  for (const volume of Volumes ?? []) await docker.getVolume(volume.Name).remove();
}

export interface RedisRow {
  redisId: string;
  appName: string;
  applicationStatus: string;
  generation: number;
  status: {
    phase: string;
    observedGeneration: number;
    lastError: string | null;
    conditions: { type: string }[];
  };
  [key: string]: unknown;
}

/** Polls redis.one until `done(row)` holds; fails with the last row seen after `timeoutMs`. */
export async function waitForRedis(
  client: ApiClient,
  redisId: string,
  done: (row: RedisRow) => boolean,
  timeoutMs = 60_000,
): Promise<RedisRow> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  while (Date.now() < deadline) {
    const response = await client.get(`/api/redis.one?redisId=${encodeURIComponent(redisId)}`);
    last = response.body;
    if (response.status === 200 && done(response.body as RedisRow)) {
      return response.body as RedisRow;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(
    `redis ${redisId} did not reach the expected state; last: ${JSON.stringify(last)}`,
  );
}

export const isDone = (row: RedisRow): boolean => row.applicationStatus === 'done';

/** A unique appName so parallel test files never collide on the shared engine. */
export function uniqueAppName(prefix: string): string {
  return `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Creates a database through the API with test defaults; a refusal fails the caller. */
export async function createRedis(
  controller: TestController,
  fields: Record<string, unknown> = {},
): Promise<RedisRow> {
  const response = await controller.client.post('/api/redis.create', {
    name: 'test-redis',
    appName: uniqueAppName('db'),
    databasePassword: 'test-password',
    dockerImage: testEngine().redisImage,
    environmentId: controller.environmentId,
    ...fields,
  });
  if (response.status !== 200) {
    throw new Error(`redis.create answered ${response.status}: ${JSON.stringify(response.body)}`);
  }
  return response.body as RedisRow;
}

/**
 * Creates a database on a free 127.0.0.1 port, deploys it and waits until it is done; the
 * port comes back with the row.
 */
export async function deployRedis(
  controller: TestController,
  fields: Record<string, unknown> = {},
): Promise<RedisRow & { port: number }> {
  const port = await freePort();
  const row = await createRedis(controller, { externalPort: port, ...fields });
  await controller.client.post('/api/redis.deploy', { redisId: row.redisId });
  await waitForRedis(controller.client, row.redisId, isDone);
  return { ...row, port };
}
