/**
 * Managed databases as a user makes and removes them: through the API, Dokploy's verbs in
 * Dokploy's order. The helpers that only need the API work on any controller, in this process
 * or in a child process of its own.
 */
import { randomBytes } from 'node:crypto';
import type { ApiClient } from '../support/api.js';
import { freePort } from '../support/resp.js';
import { type BenchController, call, query, waitUntil } from './harness.js';
import { waitForPong } from './pong.js';

/** How long a removal (graceful stop, container and volume removal, purge) may take. */
const REMOVE_TIMEOUT_MS = 60_000;

/** How long a deployed database may take to answer, and the controller to report it ready. */
const READY_TIMEOUT_MS = 60_000;

/** What the API helpers need of a controller: a client, and the environment to file under. */
export interface ControllerApi {
  client: ApiClient;
  environmentId: string;
}

export interface Database {
  redisId: string;
  appName: string;
  password: string;
  port: number;
}

/** A password with characters a shell would trip on, as users choose them. */
export function newPassword(): string {
  return `b$ '${randomBytes(9).toString('base64url')}`;
}

/** redis.create, then redis.saveExternalPort, then redis.deploy; returns without waiting. */
export async function createAndDeploy(
  api: ControllerApi,
  options: { appName: string; port: number; image: string; password?: string },
): Promise<Database> {
  const password = options.password ?? newPassword();
  const { redisId } = await call<{ redisId: string }>(api.client, 'redis.create', {
    name: options.appName,
    appName: options.appName,
    databasePassword: password,
    environmentId: api.environmentId,
    dockerImage: options.image,
    description: 'redis-controller benchmark',
  });
  await call(api.client, 'redis.saveExternalPort', { redisId, externalPort: options.port });
  await call(api.client, 'redis.deploy', { redisId });
  return { redisId, appName: options.appName, password, port: options.port };
}

/**
 * Deploys `count` databases named `<prefix>-live-<n>`, each on a free port, and waits until
 * each answers PONG and the controller itself reports it ready.
 */
export async function deployLive(
  api: ControllerApi,
  options: { count: number; prefix: string; image: string },
): Promise<Database[]> {
  const live: Database[] = [];
  for (let index = 0; index < options.count; index++) {
    live.push(
      await createAndDeploy(api, {
        appName: `${options.prefix}-live-${index}`,
        port: await freePort(),
        image: options.image,
      }),
    );
  }
  for (const database of live) {
    await waitForPong(database.port, database.password, READY_TIMEOUT_MS);
    await waitUntil(
      `for ${database.appName} to be reported ready`,
      () => isReady(api, database.redisId),
      READY_TIMEOUT_MS,
    );
  }
  return live;
}

/**
 * Creates the records numbered `from` up to `to` (excluded), named `<prefix>-idle-<n>`, that
 * alternate between never deployed and stopped: the two kinds of record a controller holds most
 * of, which have no container to look at but must still be checked. Returns how many it stopped.
 */
export async function createIdle(
  api: ControllerApi,
  options: { from: number; to: number; prefix: string; image: string },
): Promise<number> {
  let stopped = 0;
  for (let index = options.from; index < options.to; index++) {
    const appName = `${options.prefix}-idle-${index}`;
    const { redisId } = await call<{ redisId: string }>(api.client, 'redis.create', {
      name: appName,
      appName,
      databasePassword: newPassword(),
      environmentId: api.environmentId,
      dockerImage: options.image,
      description: null,
    });
    if (index % 2 === 1) {
      await call(api.client, 'redis.stop', { redisId });
      stopped++;
    }
  }
  return stopped;
}

/** redis.remove, then waits until the controller removed container, volume and record. */
export async function removeDatabase(bench: BenchController, redisId: string): Promise<void> {
  await call(bench.client, 'redis.remove', { redisId });
  const store = bench.running.store;
  await waitUntil(
    `for redis ${redisId} to be removed`,
    () => store.redis.findIncludingDeleted(redisId) === null,
    REMOVE_TIMEOUT_MS,
  );
}

/** True once the controller itself has seen the database answer (applicationStatus done). */
export async function isReady(api: ControllerApi, redisId: string): Promise<boolean> {
  const row = await query<{ applicationStatus: string }>(api.client, 'redis.one', { redisId });
  return row.applicationStatus === 'done';
}
