/**
 * Changes made behind the controller's back, with the engine's own tools, are put back.
 */
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerFromHost } from '../../src/runtime/docker/client.js';
import { LABELS, MANAGED_BY_VALUE } from '../../src/runtime/types.js';
import {
  deployRedis,
  isDone,
  type RedisRow,
  startTestController,
  type TestController,
  uniqueAppName,
  waitForRedis,
} from '../support/controller.js';
import { testEngine } from '../support/engine.js';
import { redisCommand } from '../support/resp.js';

const PASSWORD = 'drift-test-password';

let controller: TestController;
let docker: Docker;

beforeAll(async () => {
  controller = await startTestController();
  docker = dockerFromHost(testEngine().dockerHost);
});

afterAll(async () => {
  await controller?.stop();
});

function deployed(overrides: Record<string, unknown> = {}): Promise<RedisRow & { port: number }> {
  return deployRedis(controller, {
    name: 'drift',
    appName: uniqueAppName('drift'),
    databasePassword: PASSWORD,
    ...overrides,
  });
}

async function waitFor<T>(probe: () => Promise<T | null>, what: string): Promise<T> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => null);
    if (value !== null) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function runningId(name: string): Promise<string | null> {
  const info = await docker.getContainer(name).inspect();
  return info.State.Running ? info.Id : null;
}

describe('drift repair', () => {
  it('recreates a container removed with docker rm -f, keeping its data', async () => {
    const row = await deployed();
    expect(await redisCommand(row.port, PASSWORD, 'SET', 'k', 'v')).toBe('OK');
    const before = await docker.getContainer(row.appName).inspect();
    await docker.getContainer(row.appName).remove({ force: true });

    const after = await waitFor(async () => {
      const id = await runningId(row.appName);
      return id && id !== before.Id ? id : null;
    }, 'a new container');
    expect(after).not.toBe(before.Id);
    await waitFor(
      async () => ((await redisCommand(row.port, PASSWORD, 'PING')) === 'PONG' ? true : null),
      'PONG',
    );
    expect(await redisCommand(row.port, PASSWORD, 'GET', 'k')).toBe('v');
  });

  it('resumes a container paused with docker pause, the same container', async () => {
    const row = await deployed();
    const before = await docker.getContainer(row.appName).inspect();
    await docker.getContainer(row.appName).pause();
    await waitFor(async () => {
      const info = await docker.getContainer(row.appName).inspect();
      return info.State.Running && !info.State.Paused ? info : null;
    }, 'the container to be resumed');
    const after = await docker.getContainer(row.appName).inspect();
    expect(after.Id).toBe(before.Id);
    await waitFor(
      async () => ((await redisCommand(row.port, PASSWORD, 'PING')) === 'PONG' ? true : null),
      'PONG',
    );
    await waitForRedis(controller.client, row.redisId, isDone);
  });

  it('starts again a container stopped with docker stop', async () => {
    const row = await deployed();
    await docker.getContainer(row.appName).stop({ t: 5 });
    await waitFor(() => runningId(row.appName), 'the container to run again');
    const done = await waitForRedis(controller.client, row.redisId, isDone);
    expect(done.status.phase).toBe('Running');
  });

  it('puts back a memory limit changed with docker update', async () => {
    const row = await deployed({ memoryLimit: '256m' });
    const before = await docker.getContainer(row.appName).inspect();
    await docker.getContainer(row.appName).update({ Memory: 128 * 1024 ** 2, MemorySwap: -1 });

    const repaired = await waitFor(async () => {
      const info = await docker.getContainer(row.appName).inspect();
      const recreated = info.Id !== before.Id && info.HostConfig.Memory === 256 * 1024 ** 2;
      return recreated && info.State.Running ? info : null;
    }, 'the container to be recreated with 256m and running');
    expect(repaired.HostConfig.Memory).toBe(256 * 1024 ** 2);
  });

  it("removes a container carrying this controller's labels but no record", async () => {
    const sample = await deployed();
    const own = await docker.getContainer(sample.appName).inspect();
    const name = uniqueAppName('orphan');
    await docker.createContainer({
      name,
      Image: testEngine().redisImage,
      Cmd: ['redis-server'],
      Labels: {
        [LABELS.managedBy]: MANAGED_BY_VALUE,
        [LABELS.owner]: own.Config.Labels[LABELS.owner] ?? '',
        [LABELS.redisId]: 'no-such-record',
      },
    });

    await waitFor(async () => {
      const found = await docker.listContainers({ all: true, filters: { name: [`^/${name}$`] } });
      return found.length === 0 ? true : null;
    }, 'the orphan to be removed');
  });
});
