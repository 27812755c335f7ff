/**
 * The seed walkthrough end to end: API → SQLite → reconcile loop → a real Redis container on
 * the private test engine, reached over its published port like any client would.
 */
import fs from 'node:fs';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerFromHost } from '../../src/runtime/docker/client.js';
import {
  createRedis as createTestRedis,
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
let docker: Docker;

beforeAll(async () => {
  controller = await startTestController();
  docker = dockerFromHost(testEngine().dockerHost);
});

afterAll(async () => {
  await controller?.stop();
});

async function createRedis(overrides: Record<string, unknown> = {}): Promise<RedisRow> {
  return createTestRedis(controller, {
    name: 'production-redis',
    appName: uniqueAppName('e2e'),
    databasePassword: 'securePassword123!',
    description: 'Production Redis cache',
    ...overrides,
  });
}

async function deployWithPort(row: RedisRow): Promise<number> {
  const port = await freePort();
  const saved = await controller.client.post('/api/redis.saveExternalPort', {
    redisId: row.redisId,
    externalPort: port,
  });
  expect(saved.status).toBe(200);
  const deployed = await controller.client.post('/api/redis.deploy', { redisId: row.redisId });
  expect(deployed.status).toBe(200);
  await waitForRedis(controller.client, row.redisId, isDone);
  return port;
}

async function containerExists(name: string): Promise<boolean> {
  const found = await docker.listContainers({ all: true, filters: { name: [`^/${name}$`] } });
  return found.length > 0;
}

async function volumeExists(name: string): Promise<boolean> {
  const { Volumes } = await docker.listVolumes({ filters: { name: [name] } });
  return (Volumes ?? []).some((volume) => volume.Name === name);
}

describe('the seed walkthrough', () => {
  it('deploys a Redis that answers PONG with the password and NOAUTH without it', async () => {
    const row = await createRedis();
    expect(row.applicationStatus).toBe('idle');
    const port = await deployWithPort(row);

    expect(await redisCommand(port, 'securePassword123!', 'PING')).toBe('PONG');
    const anonymous = await redisCommand(port, null, 'PING');
    expect(anonymous).toBeInstanceOf(Error);
    expect(String(anonymous)).toMatch(/NOAUTH/);
    const wrong = await redisCommand(port, 'not-the-password', 'PING');
    expect(String(wrong)).toMatch(/WRONGPASS|invalid/i);

    const one = await controller.client.get(`/api/redis.one?redisId=${row.redisId}`);
    const body = one.body as RedisRow & { status: { endpoint: { port: number } } };
    expect(body.status.phase).toBe('Running');
    expect(body.status.endpoint.port).toBe(port);
    expect(body.status.conditions.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'True',
    });
  });

  it('keeps a written key across stop and start', async () => {
    const row = await createRedis();
    const port = await deployWithPort(row);
    expect(await redisCommand(port, 'securePassword123!', 'SET', 'greeting', 'hello')).toBe('OK');

    await controller.client.post('/api/redis.stop', { redisId: row.redisId });
    const stopped = await waitForRedis(
      controller.client,
      row.redisId,
      (r) => r.status.phase === 'Stopped',
    );
    expect(stopped.applicationStatus).toBe('idle');
    const inspect = await docker.getContainer(row.appName).inspect();
    expect(inspect.State.Running).toBe(false);

    await controller.client.post('/api/redis.start', { redisId: row.redisId });
    await waitForRedis(controller.client, row.redisId, isDone);
    expect(await redisCommand(port, 'securePassword123!', 'GET', 'greeting')).toBe('hello');
  });

  it('leaves no container and no volume after remove', async () => {
    const row = await createRedis();
    await deployWithPort(row);
    expect(await containerExists(row.appName)).toBe(true);
    expect(await volumeExists(`${row.appName}-data`)).toBe(true);

    const removed = await controller.client.post('/api/redis.remove', { redisId: row.redisId });
    expect(removed.status).toBe(200);
    await controller.running.controller.whenIdle();

    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && (await containerExists(row.appName))) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(await containerExists(row.appName)).toBe(false);
    expect(await volumeExists(`${row.appName}-data`)).toBe(false);
    expect(controller.running.store.redis.findIncludingDeleted(row.redisId)).toBeNull();
  });

  it('accepts a password with space, $, ;, quotes and @, and executes none of it', async () => {
    const marker = `/tmp/pwned-${Date.now()}`;
    const password = `p a$s;w'o"rd@ $(touch ${marker}); touch ${marker}; \`touch ${marker}\``;
    const row = await createRedis({ databasePassword: password });
    const port = await deployWithPort(row);

    expect(await redisCommand(port, password, 'PING')).toBe('PONG');
    expect(String(await redisCommand(port, 'p', 'PING'))).toMatch(/WRONGPASS|invalid/i);

    const container = docker.getContainer(row.appName);
    const inspect = await container.inspect();
    const visible = JSON.stringify([
      inspect.Path,
      inspect.Args,
      inspect.Config.Cmd,
      inspect.Config.Env,
    ]);
    expect(visible).not.toContain('a$s;w');
    await expect(container.getArchive({ path: marker })).rejects.toMatchObject({ statusCode: 404 });
    expect(fs.existsSync(marker)).toBe(false);
  });

  it('takes a password in any script, at deploy and when changed in place', async () => {
    const password = 'пароль 東京 🔑 é';
    const row = await createRedis({ databasePassword: password });
    const port = await deployWithPort(row);
    expect(await redisCommand(port, password, 'PING')).toBe('PONG');

    const next = 'κωδικός-密码-🗝';
    const changed = await controller.client.post('/api/redis.changePassword', {
      redisId: row.redisId,
      password: next,
    });
    expect(changed.status).toBe(200);
    await waitForRedis(
      controller.client,
      row.redisId,
      (r) => isDone(r) && r.status.observedGeneration === r.generation,
    );
    expect(await redisCommand(port, next, 'PING')).toBe('PONG');
    expect(String(await redisCommand(port, password, 'PING'))).toMatch(/WRONGPASS/);
  });

  it('ends in status error naming the image when the image does not exist', async () => {
    const image = 'redis-controller-missing/redis:does-not-exist';
    const row = await createRedis({ dockerImage: image });
    await controller.client.post('/api/redis.deploy', { redisId: row.redisId });
    const failed = await waitForRedis(
      controller.client,
      row.redisId,
      (r) => r.applicationStatus === 'error',
    );
    expect(failed.status.lastError).toContain(image);
    expect(await containerExists(row.appName)).toBe(false);
  });
});
