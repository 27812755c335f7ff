/**
 * Several servers: a record's serverId places it on another engine, and the controller follows
 * that engine through a restart. Two private engines run side by side.
 */
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerFromHost } from '../../src/runtime/docker/client.js';
import {
  deployRedis,
  type RedisRow,
  startTestController,
  type TestController,
  uniqueAppName,
} from '../support/controller.js';
import { secondEngine, testEngine } from '../support/engine.js';
import { redisCommand } from '../support/resp.js';

const PASSWORD = 'two-engines-password';

let controller: TestController;
let first: Docker;
let second: Docker;
let serverId: string;

beforeAll(async () => {
  controller = await startTestController();
  first = dockerFromHost(testEngine().dockerHost);
  second = dockerFromHost(secondEngine().dockerHost);
  const created = await controller.client.post('/api/server.create', {
    name: 'second engine',
    dockerHost: secondEngine().dockerHost,
  });
  expect(created.status).toBe(200);
  serverId = (created.body as { serverId: string }).serverId;
});

afterAll(async () => {
  await controller?.stop();
});

function deployed(fields: Record<string, unknown>): Promise<RedisRow & { port: number }> {
  return deployRedis(controller, {
    appName: uniqueAppName('srv'),
    databasePassword: PASSWORD,
    ...fields,
  });
}

async function exists(docker: Docker, name: string): Promise<boolean> {
  const found = await docker.listContainers({ all: true, filters: { name: [`^/${name}$`] } });
  return found.length > 0;
}

describe('several servers', () => {
  it('places each database on its own engine', async () => {
    const local = await deployed({});
    const remote = await deployed({ serverId, dockerImage: secondEngine().redisImage });

    expect(await exists(first, local.appName)).toBe(true);
    expect(await exists(second, local.appName)).toBe(false);
    expect(await exists(second, remote.appName)).toBe(true);
    expect(await exists(first, remote.appName)).toBe(false);
    expect(await redisCommand(local.port, PASSWORD, 'PING')).toBe('PONG');
    expect(await redisCommand(remote.port, PASSWORD, 'PING')).toBe('PONG');

    const one = await controller.client.get(`/api/redis.one?redisId=${remote.redisId}`);
    expect(one.body).toMatchObject({ serverId, status: { endpoint: { port: remote.port } } });

    const removed = await controller.client.post('/api/server.remove', { serverId });
    expect(removed.status).toBe(409);
  });

  it('repairs drift on the second engine too', async () => {
    const remote = await deployed({ serverId, dockerImage: secondEngine().redisImage });
    const before = await second.getContainer(remote.appName).inspect();
    await second.getContainer(remote.appName).remove({ force: true });

    const deadline = Date.now() + 30_000;
    let after: string | null = null;
    while (Date.now() < deadline && !after) {
      const info = await second
        .getContainer(remote.appName)
        .inspect()
        .catch(() => null);
      if (info?.State.Running && info.Id !== before.Id) after = info.Id;
      else await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(after).not.toBeNull();
  });
});
