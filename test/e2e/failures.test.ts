/**
 * Failures a user must see in status, and how the controller retries them (or, when retrying
 * cannot help, does not).
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerFromHost } from '../../src/runtime/docker/client.js';
import {
  createRedis,
  deployRedis,
  isDone,
  type RedisRow,
  startTestController,
  type TestController,
  uniqueAppName,
  waitForRedis,
} from '../support/controller.js';
import { testEngine } from '../support/engine.js';
import { freePort, redisCommand } from '../support/resp.js';

let controller: TestController;

beforeAll(async () => {
  controller = await startTestController();
});

afterAll(async () => {
  await controller?.stop();
});

async function create(overrides: Record<string, unknown>): Promise<RedisRow> {
  return createRedis(controller, {
    name: 'failures',
    appName: uniqueAppName('fail'),
    databasePassword: 'failure-test-pw',
    ...overrides,
  });
}

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}

function conditionOf(row: RedisRow, type: string): Condition | undefined {
  return (row.status.conditions as Condition[]).find((c) => c.type === type);
}

/** Waits until a terminal failure has stopped the retries of the record. */
async function waitStalled(redisId: string): Promise<StatusRow> {
  const isStalled = (row: RedisRow) => (row as StatusRow).status.stalledAt !== null;
  return (await waitForRedis(controller.client, redisId, isStalled)) as StatusRow;
}

interface StatusRow extends RedisRow {
  status: RedisRow['status'] & {
    lastReconciledAt: string | null;
    containerId: string | null;
    stalledAt: { deployRequests: number } | null;
    conditions: Condition[];
  };
}

describe('failures', () => {
  it('stops retrying a port taken on the host until the user asks again', async () => {
    const port = await freePort();
    const row = await create({ externalPort: port });
    // Taken after the API accepted the port, so only the engine can find out.
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      await controller.client.post('/api/redis.deploy', { redisId: row.redisId });
      const failed = await waitStalled(row.redisId);
      expect(failed.applicationStatus).toBe('error');
      expect(failed.status.lastError).toContain(String(port));
      expect(conditionOf(failed, 'Degraded')).toMatchObject({
        status: 'True',
        reason: 'TerminalError',
      });
      // The failure is the answer to this generation, so health checks stop waiting on it.
      expect(failed.status.observedGeneration).toBe(failed.generation);

      // A resync visits the record but does not try again.
      await controller.running.controller.resync();
      await controller.running.controller.whenIdle();
      const after = (await controller.client.get(`/api/redis.one?redisId=${row.redisId}`))
        .body as StatusRow;
      expect(after.status.lastReconciledAt).toBe(failed.status.lastReconciledAt);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }

    // A start, as a user presses it after freeing the port, tries again, and now it works.
    await controller.client.post('/api/redis.start', { redisId: row.redisId });
    await waitForRedis(controller.client, row.redisId, isDone);
    expect(await redisCommand(port, 'failure-test-pw', 'PING')).toBe('PONG');
  });

  it('reports a Redis that exits at start with its exit code and last log lines', async () => {
    const row = await create({ args: ['--port', 'not-a-port'] });
    await controller.client.post('/api/redis.deploy', { redisId: row.redisId });
    const failed = await waitForRedis(
      controller.client,
      row.redisId,
      (r) => r.applicationStatus === 'error' && /exited with code/.test(r.status.lastError ?? ''),
    );
    expect(failed.status.lastError).toMatch(/exited with code [1-9]/);
    expect(failed.status.lastError).toMatch(/port/i);
    // The status names the container that failed, not one from before.
    const there = await dockerFromHost(testEngine().dockerHost).getContainer(row.appName).inspect();
    expect((failed as StatusRow).status.containerId).toBe(there.Id);
    await controller.client.post('/api/redis.stop', { redisId: row.redisId });
  });

  it('brings the status of a database never deployed up to a reload', async () => {
    const row = await create({});
    const reloaded = await controller.client.post('/api/redis.reload', {
      redisId: row.redisId,
      appName: row.appName,
    });
    expect(reloaded.status).toBe(200);
    const seen = await waitForRedis(
      controller.client,
      row.redisId,
      (r) => r.status.observedGeneration === r.generation,
    );
    expect(seen.generation).toBeGreaterThan(row.generation);
    expect(seen.status.phase).toBe('Pending');
    expect(seen.applicationStatus).toBe('idle');
  });

  it('refuses a memory reservation above the limit, and leaves the running database alone', async () => {
    const port = await freePort();
    const row = await create({ externalPort: port, memoryLimit: '256m' });
    await controller.client.post('/api/redis.deploy', { redisId: row.redisId });
    const running = await waitForRedis(controller.client, row.redisId, isDone);

    const refused = await controller.client.post('/api/redis.update', {
      redisId: row.redisId,
      memoryReservation: '512m',
    });
    expect(refused.status).toBe(400);
    const body = refused.body as { message: string; issues: { path: string[] }[] };
    expect(body.message).toMatch(/memoryReservation.*memoryLimit/);
    expect(body.issues.map((issue) => issue.path)).toEqual([['memoryReservation']]);
    const after = (await controller.client.get(`/api/redis.one?redisId=${row.redisId}`))
      .body as StatusRow;
    expect(after.generation).toBe(running.generation);
    expect(after.memoryReservation).toBeNull();
    expect(await redisCommand(port, 'failure-test-pw', 'PING')).toBe('PONG');
  });

  it('stops retrying settings the engine refuses, and says so', async () => {
    // No machine this runs on has 512 CPUs; the engine refuses the container outright.
    const row = await create({ cpuLimit: '512' });
    await controller.client.post('/api/redis.deploy', { redisId: row.redisId });
    const failed = await waitStalled(row.redisId);
    expect(failed.status.lastError).toMatch(/engine refuses the container's settings/);
    expect(conditionOf(failed, 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'TerminalError',
    });
    expect(failed.status.observedGeneration).toBe(failed.generation);
  });

  it('keeps the running database serving when its replacement cannot be made', async () => {
    const db = await deployRedis(controller, {
      name: 'failures',
      appName: uniqueAppName('fail'),
      databasePassword: 'failure-test-pw',
    });
    expect(await redisCommand(db.port, 'failure-test-pw', 'SET', 'kept', 'yes')).toBe('OK');
    const serving = (await controller.client.get(`/api/redis.one?redisId=${db.redisId}`))
      .body as StatusRow;

    const failedUpdate = async (patch: Record<string, unknown>, error: RegExp) => {
      const updated = await controller.client.post('/api/redis.update', {
        redisId: db.redisId,
        ...patch,
      });
      expect(updated.status).toBe(200);
      const failed = (await waitForRedis(
        controller.client,
        db.redisId,
        (r) => r.applicationStatus === 'error' && error.test(r.status.lastError ?? ''),
      )) as StatusRow;
      expect(failed.status.lastError).toMatch(/the running container was left as it was/);
      expect(failed.status.containerId).toBe(serving.status.containerId);
      expect(conditionOf(failed, 'Ready')).toMatchObject({
        status: 'True',
      });
      expect(conditionOf(failed, 'Degraded')).toMatchObject({
        status: 'True',
      });
      expect(await redisCommand(db.port, 'failure-test-pw', 'GET', 'kept')).toBe('yes');
    };

    // No registry is reachable, so an image not on the engine cannot be had (retried).
    await failedUpdate(
      { dockerImage: 'redis-controller/not-here:1' },
      /redis-controller\/not-here:1/,
    );
    // More CPUs than any machine this runs on: refused before the container is touched, and
    // not retried.
    await failedUpdate(
      { dockerImage: testEngine().redisImage, cpuLimit: '512' },
      /cpuLimit asks for 512 CPUs/,
    );

    // A password changed meanwhile reaches the kept container: the old one must stop working.
    const changed = await controller.client.post('/api/redis.changePassword', {
      redisId: db.redisId,
      password: 'rotated-failure-pw',
    });
    expect(changed.status).toBe(200);
    await waitForRedis(
      controller.client,
      db.redisId,
      (r) => r.status.observedGeneration === r.generation,
    );
    for (let tries = 0; tries < 50; tries++) {
      if ((await redisCommand(db.port, 'rotated-failure-pw', 'PING').catch(() => '')) === 'PONG')
        break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await redisCommand(db.port, 'rotated-failure-pw', 'GET', 'kept')).toBe('yes');
    expect(String(await redisCommand(db.port, 'failure-test-pw', 'PING'))).toMatch(/WRONGPASS/);

    // Not retried, but still watched: the kept container stopping is seen at once.
    await dockerFromHost(testEngine().dockerHost)
      .getContainer(serving.status.containerId ?? '')
      .stop();
    const stopped = (await waitForRedis(
      controller.client,
      db.redisId,
      (r) => conditionOf(r, 'Ready')?.status === 'False',
    )) as StatusRow;
    const notReady = conditionOf(stopped, 'Ready');
    expect(notReady).toMatchObject({ status: 'False', reason: 'ContainerNotRunning' });
    expect(notReady?.message).toMatch(
      /container is exited.*not started again until the spec changes: .*cpuLimit/,
    );
    expect(stopped.status.lastError).toMatch(/^the engine refuses .*cpuLimit asks for 512 CPUs/);

    // Started again by hand, it serves again, and status says so.
    await dockerFromHost(testEngine().dockerHost)
      .getContainer(serving.status.containerId ?? '')
      .start();
    await waitForRedis(
      controller.client,
      db.redisId,
      (r) => conditionOf(r, 'Ready')?.status === 'True',
    );
    expect(await redisCommand(db.port, 'rotated-failure-pw', 'GET', 'kept')).toBe('yes');

    // Set right, the spec is applied on a new container with the data kept.
    await controller.client.post('/api/redis.update', {
      redisId: db.redisId,
      dockerImage: testEngine().redisImage,
      cpuLimit: '1',
    });
    const fixed = (await waitForRedis(
      controller.client,
      db.redisId,
      (r) => isDone(r) && r.status.observedGeneration === r.generation && r.cpuLimit !== null,
    )) as StatusRow;
    expect(fixed.status.containerId).not.toBe(serving.status.containerId);
    expect(await redisCommand(db.port, 'rotated-failure-pw', 'GET', 'kept')).toBe('yes');
  });
});
