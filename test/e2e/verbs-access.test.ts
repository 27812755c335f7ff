/**
 * The verbs that change how clients reach Redis (its published port and its password), checked
 * from the outside: a RESP client on 127.0.0.1 and docker inspect.
 */
import fs from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, redisCommand } from '../support/resp.js';
import { connectError, PASSWORD, VerbHarness } from '../support/verbs.js';

let harness: VerbHarness;

beforeAll(async () => {
  harness = await VerbHarness.start();
});

afterAll(async () => {
  await harness?.stop();
});

async function saveExternalPort(redisId: string, externalPort: number | null) {
  return harness.post('/api/redis.saveExternalPort', { redisId, externalPort });
}

/** A plain TCP listener on 127.0.0.1, as any other program on the host could hold a port. */
function listen(port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => socket.destroy());
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

function close(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

describe('redis.saveExternalPort', () => {
  it('publishes, moves and unpublishes the port Redis answers on', async () => {
    const created = await harness.create('port');
    await harness.post('/api/redis.deploy', { redisId: created.redisId });
    await harness.settle(created.redisId);
    const unpublished = await harness.inspect(created.appName);
    expect(unpublished.HostConfig.PortBindings ?? {}).toEqual({});

    const first = await freePort();
    const saved = await saveExternalPort(created.redisId, first);
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
    expect(saved.body).toMatchObject({ redisId: created.redisId, externalPort: first });
    await harness.settle(created.redisId);
    expect(await redisCommand(first, PASSWORD, 'SET', 'kept', 'across-ports')).toBe('OK');

    const second = await freePort();
    expect((await saveExternalPort(created.redisId, second)).status).toBe(200);
    const moved = await harness.settle(created.redisId);
    expect(moved.status.endpoint).toMatchObject({ port: second });
    expect(await redisCommand(second, PASSWORD, 'GET', 'kept')).toBe('across-ports');
    expect(await connectError(first)).toBe('ECONNREFUSED');

    expect((await saveExternalPort(created.redisId, null)).status).toBe(200);
    const closed = await harness.settle(created.redisId);
    expect(closed.externalPort).toBeNull();
    expect(closed.status.endpoint).toBeNull();
    expect(await connectError(second)).toBe('ECONNREFUSED');
    const after = await harness.inspect(created.appName);
    expect(after.HostConfig.PortBindings?.['6379/tcp'] ?? []).toEqual([]);
  });

  it("refuses a port another database holds with 409 naming that database's appName", async () => {
    const port = await freePort();
    const holder = await harness.create('port-holder', { externalPort: port });
    const other = await harness.create('port-other');

    const refused = await saveExternalPort(other.redisId, port);
    expect(refused.status).toBe(409);
    expect((refused.body as { message: string }).message).toContain(`"${holder.appName}"`);
    expect((await harness.one(other.redisId)).externalPort).toBeNull();
  });

  it('refuses a port a program on the host listens on with 409 naming that program', async () => {
    const port = await freePort();
    const server = await listen(port);
    try {
      const row = await harness.create('port-busy');
      const refused = await saveExternalPort(row.redisId, port);
      expect(refused.status).toBe(409);
      // This test process holds the port; the message names it as ps would.
      const command = fs.readFileSync('/proc/self/comm', 'utf8').trim();
      expect((refused.body as { message: string }).message).toContain(
        `${command} (pid ${process.pid})`,
      );
      expect((await harness.one(row.redisId)).externalPort).toBeNull();
    } finally {
      await close(server);
    }
  });

  it("accepts the database's own current port again without touching the container", async () => {
    const { row, port } = await harness.deploy('port-same');
    const before = await harness.inspect(row.appName);

    const saved = await saveExternalPort(row.redisId, port);
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
    expect(saved.body).toMatchObject({ externalPort: port, generation: row.generation });
    await harness.controller.running.controller.whenIdle();

    const after = await harness.inspect(row.appName);
    expect(after.Id).toBe(before.Id);
    expect(await redisCommand(port, PASSWORD, 'PING')).toBe('PONG');
  });
});

/** Everything docker inspect shows that a password could leak into. */
function inspectText(info: Awaited<ReturnType<VerbHarness['inspect']>>): string {
  return JSON.stringify([
    info.Path,
    info.Args,
    info.Config.Cmd,
    info.Config.Env,
    info.Config.Labels,
  ]);
}

describe('redis.changePassword', () => {
  it('switches a running Redis to the new password without a restart, and reload keeps it', async () => {
    const { row, port } = await harness.deploy('passwd');
    expect(await redisCommand(port, PASSWORD, 'SET', 'kept', 'across-password')).toBe('OK');
    const before = await harness.inspect(row.appName);
    const newPassword = 'verbs-N3w-passw0rd';

    const changed = await harness.post('/api/redis.changePassword', {
      redisId: row.redisId,
      password: newPassword,
    });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    expect(changed.body).toBe(true);
    await harness.settle(row.redisId);

    expect(await redisCommand(port, newPassword, 'PING')).toBe('PONG');
    expect(String(await redisCommand(port, PASSWORD, 'PING'))).toMatch(/WRONGPASS/);
    const inPlace = await harness.inspect(row.appName);
    expect(inPlace.Id).toBe(before.Id);
    expect(inPlace.State.StartedAt).toBe(before.State.StartedAt);

    const reloaded = await harness.post('/api/redis.reload', {
      redisId: row.redisId,
      appName: row.appName,
    });
    expect(reloaded.status).toBe(200);
    await harness.settle(row.redisId);
    const restarted = await harness.inspect(row.appName);
    expect(restarted.State.StartedAt).not.toBe(before.State.StartedAt);

    expect(await redisCommand(port, newPassword, 'GET', 'kept')).toBe('across-password');
    expect(String(await redisCommand(port, PASSWORD, 'PING'))).toMatch(/WRONGPASS/);
  });

  it('never shows the old or the new password in docker inspect', async () => {
    const original = `verbs-inspect-${Date.now()}-orig`;
    const replacement = `verbs-inspect-${Date.now()}-next`;
    const { row, port } = await harness.deploy('passwd-inspect', { databasePassword: original });
    const first = inspectText(await harness.inspect(row.appName));
    expect(first).not.toContain(original);

    await harness.post('/api/redis.changePassword', {
      redisId: row.redisId,
      password: replacement,
    });
    await harness.settle(row.redisId);
    expect(await redisCommand(port, replacement, 'PING')).toBe('PONG');

    const second = inspectText(await harness.inspect(row.appName));
    expect(second).not.toContain(original);
    expect(second).not.toContain(replacement);
  });
});
