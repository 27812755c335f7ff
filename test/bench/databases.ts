/**
 * Managed databases as a user makes and removes them: through the API, Dokploy's verbs in
 * Dokploy's order.
 */
import { randomBytes } from 'node:crypto';
import { type BenchController, call, waitUntil } from './harness.js';

/** How long a removal (graceful stop, container and volume removal, purge) may take. */
const REMOVE_TIMEOUT_MS = 60_000;

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
  bench: BenchController,
  options: { appName: string; port: number; image: string; password?: string },
): Promise<Database> {
  const password = options.password ?? newPassword();
  const { redisId } = await call<{ redisId: string }>(bench.client, 'redis.create', {
    name: options.appName,
    appName: options.appName,
    databasePassword: password,
    environmentId: bench.environmentId,
    dockerImage: options.image,
    description: 'redis-controller benchmark',
  });
  await call(bench.client, 'redis.saveExternalPort', { redisId, externalPort: options.port });
  await call(bench.client, 'redis.deploy', { redisId });
  return { redisId, appName: options.appName, password, port: options.port };
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
export function isReady(bench: BenchController, redisId: string): boolean {
  return bench.running.store.redis.findIncludingDeleted(redisId)?.applicationStatus === 'done';
}
