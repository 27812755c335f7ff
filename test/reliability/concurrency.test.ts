/**
 * 100 updates of one deployed record sent concurrently: each is stored exactly once, the record
 * ends with the values of one of them (env and memory limit from the same request), and the one
 * container that runs matches that record and stays put when the controller looks again.
 */
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildInstanceSpec } from '../../src/controller/instance.js';
import { LABELS } from '../../src/runtime/types.js';
import {
  createRedis,
  isDone,
  type RedisRow,
  startTestController,
  type TestController,
  uniqueAppName,
  waitForRedis,
} from '../support/controller.js';
import { freePort, redisCommand } from '../support/resp.js';
import { sleep } from './support/child.js';
import { testDocker } from './support/owned.js';

const UPDATES = 100;
const MEMORY_LIMITS_MB = [128, 160, 192, 224, 256];
const PASSWORD = 'concurrency-password';
/** The test controller's default, which the spec hash includes. */
const STOP_TIMEOUT_SECONDS = 10;
const RESYNC_INTERVAL_MS = 2000;

interface Row extends RedisRow {
  generation: number;
  env: string | null;
  memoryLimit: string | null;
  status: RedisRow['status'] & { observedGeneration: number; containerId: string | null };
}

let controller: TestController;
let docker: Docker;

beforeAll(async () => {
  docker = await testDocker();
  controller = await startTestController({
    RESYNC_INTERVAL_MS: String(RESYNC_INTERVAL_MS),
    STOP_TIMEOUT_SECONDS: String(STOP_TIMEOUT_SECONDS),
  });
});

afterAll(async () => {
  await controller?.stop();
});

async function containersOf(redisId: string): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({
    all: true,
    filters: { label: [`${LABELS.redisId}=${redisId}`] },
  });
}

describe('100 concurrent updates of one record', () => {
  // All at once, then spread over 3 s so that many land while a recreation is under way.
  it.each([
    { spread: 'at once', spreadMs: 0 },
    { spread: 'over 3 s', spreadMs: 3000 },
  ])(
    'sent $spread end in one container matching the last update stored, each counted once',
    async ({ spreadMs }) => {
      const port = await freePort();
      const created = await createRedis(controller, {
        appName: uniqueAppName('concurrent'),
        databasePassword: PASSWORD,
        externalPort: port,
        memoryLimit: '256m',
      });
      const { redisId } = created;
      await controller.client.post('/api/redis.deploy', { redisId });
      const deployed = (await waitForRedis(controller.client, redisId, isDone)) as Row;
      expect(await redisCommand(port, PASSWORD, 'SET', 'before', 'kept')).toBe('OK');

      const answers = await Promise.all(
        Array.from({ length: UPDATES }, async (_, index) => {
          await sleep((spreadMs * index) / UPDATES);
          return controller.client.post('/api/redis.update', {
            redisId,
            env: `N=${index}`,
            memoryLimit: `${MEMORY_LIMITS_MB[index % MEMORY_LIMITS_MB.length]}m`,
          });
        }),
      );
      const refused = answers.filter((answer) => answer.status !== 200);
      expect(refused, 'every update is accepted').toEqual([]);

      // Each update changed env, so each moved the generation by exactly one.
      const finalGeneration = deployed.generation + UPDATES;
      const converged = (await waitForRedis(
        controller.client,
        redisId,
        (row) => {
          const r = row as Row;
          return (
            r.generation === finalGeneration &&
            r.status.observedGeneration === finalGeneration &&
            r.status.phase === 'Running' &&
            r.applicationStatus === 'done'
          );
        },
        120_000,
      )) as Row;

      const index = Number(/^N=(\d+)$/.exec(converged.env ?? '')?.[1]);
      expect(Number.isInteger(index), `env ${converged.env} is one of the updates`).toBe(true);
      const memoryMb = MEMORY_LIMITS_MB[index % MEMORY_LIMITS_MB.length] ?? 0;
      expect(converged.memoryLimit, 'env and memoryLimit come from the same update').toBe(
        `${memoryMb}m`,
      );

      const containers = await containersOf(redisId);
      expect(
        containers.map((c) => c.Names[0]),
        'exactly one container',
      ).toHaveLength(1);
      const info = await docker.getContainer(containers[0]?.Id ?? '').inspect();
      expect(info.State.Running).toBe(true);
      expect(info.Id).toBe(converged.status.containerId);
      expect(info.Config.Env).toContain(`N=${index}`);
      expect(info.HostConfig.Memory).toBe(memoryMb * 1024 * 1024);
      expect(info.Config.Labels[LABELS.generation]).toBe(String(finalGeneration));

      const record = controller.running.store.redis.find(redisId);
      const expected = buildInstanceSpec(record, {
        publishHost: '127.0.0.1',
        stopTimeoutSeconds: STOP_TIMEOUT_SECONDS,
        hashKey: controller.running.store.secrets.derive('spec-hash'),
      });
      expect(info.Config.Labels[LABELS.specHash], 'the spec hash a fresh reconcile expects').toBe(
        expected.specHash,
      );

      // Two more resyncs must find nothing to change: no recreation, no restart.
      for (let round = 0; round < 2; round++) {
        await controller.running.controller.resync();
        await sleep(RESYNC_INTERVAL_MS / 2);
        await controller.running.controller.whenIdle();
      }
      const after = await containersOf(redisId);
      expect(after.map((c) => c.Id)).toEqual([info.Id]);
      const again = await docker.getContainer(info.Id).inspect();
      expect(again.State.StartedAt).toBe(info.State.StartedAt);
      expect(again.RestartCount).toBe(info.RestartCount);
      expect(await redisCommand(port, PASSWORD, 'GET', 'before'), 'data kept').toBe('kept');
    },
    170_000,
  );
});
