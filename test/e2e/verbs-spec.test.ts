/**
 * The spec-changing verbs (update, saveEnvironment, limits, a custom command) seen where they
 * land: in the container the engine runs and in the Redis a client reaches on its port.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisCommand } from '../support/resp.js';
import { configValue, type Deployed, PASSWORD, VerbHarness } from '../support/verbs.js';

const MIB = 1024 ** 2;

let harness: VerbHarness;

beforeAll(async () => {
  harness = await VerbHarness.start();
});

afterAll(async () => {
  await harness?.stop();
});

async function update(redisId: string, patch: Record<string, unknown>): Promise<void> {
  const response = await harness.post('/api/redis.update', { redisId, ...patch });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  expect(response.body).toBe(true);
}

async function saveEnvironment(redisId: string, env: string | null): Promise<void> {
  const response = await harness.post('/api/redis.saveEnvironment', { redisId, env });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  expect(response.body).toBe(true);
}

describe('redis.update', () => {
  it('recreates the container on a memory limit change and keeps the keys', async () => {
    const { row, port } = await harness.deploy('upd-mem');
    expect(await redisCommand(port, PASSWORD, 'SET', 'kept', 'across-update')).toBe('OK');
    const before = await harness.inspect(row.appName);

    await update(row.redisId, { memoryLimit: '256m' });
    await harness.settle(row.redisId);

    const after = await harness.inspect(row.appName);
    expect(after.Id).not.toBe(before.Id);
    expect(after.HostConfig.Memory).toBe(256 * MIB);
    expect(await redisCommand(port, PASSWORD, 'GET', 'kept')).toBe('across-update');
  });

  it('recreates the container on an env change and keeps the keys', async () => {
    const { row, port } = await harness.deploy('upd-env');
    expect(await redisCommand(port, PASSWORD, 'SET', 'kept', 'across-env')).toBe('OK');
    const before = await harness.inspect(row.appName);

    await update(row.redisId, { env: 'MODE=e2e' });
    await harness.settle(row.redisId);

    const after = await harness.inspect(row.appName);
    expect(after.Id).not.toBe(before.Id);
    expect(after.Config.Env).toContain('MODE=e2e');
    expect(await redisCommand(port, PASSWORD, 'GET', 'kept')).toBe('across-env');
  });

  it('leaves the container and its start time alone on a name or description change', async () => {
    const { row, port } = await harness.deploy('upd-meta');
    const before = await harness.inspect(row.appName);

    await update(row.redisId, { name: 'renamed cache', description: 'now with a description' });
    await harness.controller.running.controller.whenIdle();

    const after = await harness.inspect(row.appName);
    expect(after.Id).toBe(before.Id);
    expect(after.State.StartedAt).toBe(before.State.StartedAt);
    const stored = await harness.one(row.redisId);
    expect(stored).toMatchObject({
      name: 'renamed cache',
      description: 'now with a description',
      generation: row.generation,
      applicationStatus: 'done',
    });
    expect(await redisCommand(port, PASSWORD, 'PING')).toBe('PONG');
  });
});

describe('redis.saveEnvironment', () => {
  it('puts the env into the container, and null takes it out again', async () => {
    const { row, port } = await harness.deploy('env');
    expect(await redisCommand(port, PASSWORD, 'SET', 'kept', 'across-env')).toBe('OK');

    await saveEnvironment(row.redisId, 'FOO=bar\nBAZ=qux');
    await harness.settle(row.redisId);
    const withEnv = await harness.inspect(row.appName);
    expect(withEnv.Config.Env).toEqual(expect.arrayContaining(['FOO=bar', 'BAZ=qux']));
    expect(await redisCommand(port, PASSWORD, 'GET', 'kept')).toBe('across-env');

    await saveEnvironment(row.redisId, null);
    const cleared = await harness.settle(row.redisId);
    expect(cleared.env).toBeNull();
    const withoutEnv = await harness.inspect(row.appName);
    const names = (withoutEnv.Config.Env ?? []).map((entry) => entry.split('=', 1)[0]);
    expect(names).not.toContain('FOO');
    expect(names).not.toContain('BAZ');
    expect(await redisCommand(port, PASSWORD, 'GET', 'kept')).toBe('across-env');
  });
});

/** The container's limits and the maxmemory Redis chose under them. */
async function expectLimits({ row, port }: Deployed): Promise<void> {
  const { HostConfig } = await harness.inspect(row.appName);
  expect(HostConfig.Memory).toBe(268435456);
  expect(HostConfig.MemoryReservation).toBe(134217728);
  expect(HostConfig.NanoCpus).toBe(500000000);
  expect(HostConfig.CpuShares).toBe(256);

  const maxmemory = Number(
    configValue(await redisCommand(port, PASSWORD, 'CONFIG', 'GET', 'maxmemory')),
  );
  expect(maxmemory).toBeGreaterThan(0);
  expect(maxmemory).toBeLessThan(268435456);
}

describe('resource limits', () => {
  it('applies Docker-style limits to the container and a maxmemory below the limit', async () => {
    const deployed = await harness.deploy('limits', {
      memoryLimit: '256m',
      memoryReservation: '128m',
      cpuLimit: '0.5',
      cpuReservation: '0.25',
    });
    await expectLimits(deployed);
  });

  it("applies Dokploy's raw bytes and NanoCPUs the same way", async () => {
    const deployed = await harness.deploy('limits-raw', {
      memoryLimit: '268435456',
      memoryReservation: '134217728',
      cpuLimit: '500000000',
      cpuReservation: '250000000',
    });
    await expectLimits(deployed);
  });
});

describe('custom command and args', () => {
  it('runs the given argv and still requires the password', async () => {
    const { port } = await harness.deploy('cmd', {
      command: 'redis-server',
      args: ['--appendonly', 'no', '--maxmemory', '50mb'],
    });

    const appendonly = await redisCommand(port, PASSWORD, 'CONFIG', 'GET', 'appendonly');
    expect(configValue(appendonly)).toBe('no');
    const maxmemory = await redisCommand(port, PASSWORD, 'CONFIG', 'GET', 'maxmemory');
    expect(configValue(maxmemory)).toBe(String(50 * MIB));

    expect(String(await redisCommand(port, null, 'PING'))).toMatch(/NOAUTH/);
    expect(await redisCommand(port, PASSWORD, 'PING')).toBe('PONG');
  });

  it('accepts args as one string, as Dokploy sends them', async () => {
    const { row, port } = await harness.deploy('cmd-str', {
      command: 'redis-server',
      args: '--maxmemory 60mb',
    });

    const maxmemory = await redisCommand(port, PASSWORD, 'CONFIG', 'GET', 'maxmemory');
    expect(configValue(maxmemory)).toBe(String(60 * MIB));
    const { Config } = await harness.inspect(row.appName);
    expect(Config.Cmd).toEqual(expect.arrayContaining(['--maxmemory', '60mb']));
    expect(String(await redisCommand(port, null, 'PING'))).toMatch(/NOAUTH/);
  });
});
