/**
 * The imperative and bookkeeping verbs (reload, rebuild, changeStatus, move, search, readLogs)
 * against a real engine: what each does to the container, to Redis, and to the record.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tarArchive } from '../../src/runtime/docker/tar.js';
import { waitForRedis } from '../support/controller.js';
import { redisCommand } from '../support/resp.js';
import { PASSWORD, type TrackedRow, VerbHarness } from '../support/verbs.js';

let harness: VerbHarness;

beforeAll(async () => {
  harness = await VerbHarness.start();
});

afterAll(async () => {
  await harness?.stop();
});

describe('redis.reload', () => {
  it('restarts the same container and keeps the keys', async () => {
    const { row, port } = await harness.deploy('reload');
    expect(await redisCommand(port, PASSWORD, 'SET', 'kept', 'across-reload')).toBe('OK');
    const before = await harness.inspect(row.appName);

    const reloaded = await harness.post('/api/redis.reload', {
      redisId: row.redisId,
      appName: row.appName,
    });
    expect(reloaded.status, JSON.stringify(reloaded.body)).toBe(200);
    expect(reloaded.body).toBe(true);
    await harness.settle(row.redisId);

    const after = await harness.inspect(row.appName);
    expect(after.Id).toBe(before.Id);
    expect(after.State.StartedAt).not.toBe(before.State.StartedAt);
    expect(await redisCommand(port, PASSWORD, 'GET', 'kept')).toBe('across-reload');
  });

  it('refuses an appName that is not the database’s with 400 and restarts nothing', async () => {
    const row = await harness.create('reload-wrong');
    const refused = await harness.post('/api/redis.reload', {
      redisId: row.redisId,
      appName: `${row.appName}-other`,
    });
    expect(refused.status).toBe(400);
    expect((await harness.one(row.redisId)).restartRequests).toBe(row.restartRequests);
  });
});

describe('redis.rebuild', () => {
  it('recreates the container and its volume, wiping the data but keeping the record', async () => {
    const { row, port } = await harness.deploy('rebuild');
    expect(await redisCommand(port, PASSWORD, 'SET', 'wiped', 'by-rebuild')).toBe('OK');
    const before = await harness.inspect(row.appName);
    // A file beside Redis's own in the volume: only a new volume loses it.
    const marker = tarArchive([{ name: 'rebuild-marker', content: Buffer.from('x'), mode: 0o644 }]);
    await harness.docker.getContainer(row.appName).putArchive(marker, { path: '/data' });

    const rebuilt = await harness.post('/api/redis.rebuild', { redisId: row.redisId });
    expect(rebuilt.status, JSON.stringify(rebuilt.body)).toBe(200);
    expect(rebuilt.body).toBe(true);
    const settled = await harness.settle(row.redisId);

    expect(settled.redisId).toBe(row.redisId);
    const after = await harness.inspect(row.appName);
    expect(after.Id).not.toBe(before.Id);
    await expect(
      harness.docker.getContainer(row.appName).getArchive({ path: '/data/rebuild-marker' }),
    ).rejects.toMatchObject({ statusCode: 404 });
    expect(await redisCommand(port, PASSWORD, 'GET', 'wiped')).toBeNull();
    expect(await redisCommand(port, PASSWORD, 'DBSIZE')).toBe(0);
  });
});

describe('redis.changeStatus', () => {
  it('reports the given status until a real transition replaces it', async () => {
    const { row } = await harness.deploy('status');

    const changed = await harness.post('/api/redis.changeStatus', {
      redisId: row.redisId,
      applicationStatus: 'error',
    });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    expect(changed.body).toMatchObject({ redisId: row.redisId, applicationStatus: 'error' });

    // A resync reconciles the record again; nothing changed, so the override stays.
    await harness.controller.running.controller.resync();
    await harness.controller.running.controller.whenIdle();
    expect((await harness.one(row.redisId)).applicationStatus).toBe('error');

    await harness.post('/api/redis.stop', { redisId: row.redisId });
    const stopped = await waitForRedis(
      harness.controller.client,
      row.redisId,
      (r) => r.status.phase === 'Stopped',
    );
    expect(stopped.applicationStatus).toBe('idle');

    await harness.post('/api/redis.start', { redisId: row.redisId });
    const started = await harness.settle(row.redisId);
    expect(started.applicationStatus).toBe('done');
  });
});

describe('redis.move', () => {
  it('moves the record to another environment and leaves the container alone', async () => {
    const { row } = await harness.deploy('move');
    const before = await harness.inspect(row.appName);
    const projects = await harness.get('/api/project.all');
    const projectId = (projects.body as { projectId: string }[])[0]?.projectId;
    const environment = await harness.post('/api/environment.create', {
      name: `verbs-move-${Date.now()}`,
      projectId,
    });
    expect(environment.status, JSON.stringify(environment.body)).toBe(200);
    const { environmentId } = environment.body as { environmentId: string };

    const moved = await harness.post('/api/redis.move', {
      redisId: row.redisId,
      targetEnvironmentId: environmentId,
    });
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    expect(moved.body).toMatchObject({ redisId: row.redisId, environmentId });
    await harness.controller.running.controller.whenIdle();
    expect((await harness.inspect(row.appName)).Id).toBe(before.Id);
  });

  it('answers 404 Environment not found for an unknown target', async () => {
    const row = await harness.create('move-unknown');
    const refused = await harness.post('/api/redis.move', {
      redisId: row.redisId,
      targetEnvironmentId: 'no-such-environment',
    });
    expect(refused.status).toBe(404);
    expect((refused.body as { message: string }).message).toBe('Environment not found');
    expect((await harness.one(row.redisId)).environmentId).toBe(row.environmentId);
  });
});

describe('redis.search', () => {
  it('pages through the matches and counts all of them in total', async () => {
    const marker = `needle${Date.now().toString(36)}`;
    const matching: TrackedRow[] = [];
    for (const index of [1, 2, 3]) {
      matching.push(await harness.create('search', { name: `${marker} cache ${index}` }));
    }
    await harness.create('search', { name: 'unrelated cache' });

    const query = `/api/redis.search?q=${marker}&limit=2`;
    const first = await harness.get(`${query}&offset=0`);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    const page1 = first.body as { items: { redisId: string }[]; total: number };
    expect(page1.total).toBe(3);
    expect(page1.items).toHaveLength(2);

    const page2 = (await harness.get(`${query}&offset=2`)).body as typeof page1;
    expect(page2.total).toBe(3);
    expect(page2.items).toHaveLength(1);

    const found = [...page1.items, ...page2.items].map((item) => item.redisId).sort();
    expect(found).toEqual(matching.map((row) => row.redisId).sort());
  });
});

describe('redis.readLogs', () => {
  it("returns Redis's startup lines, filtered by the search text", async () => {
    const { row } = await harness.deploy('logs');
    const id = encodeURIComponent(row.redisId);

    const all = await harness.get(`/api/redis.readLogs?redisId=${id}&tail=100&since=all`);
    expect(all.status, JSON.stringify(all.body)).toBe(200);
    expect(typeof all.body).toBe('string');
    expect(all.body).toContain('Ready to accept connections');

    const search = encodeURIComponent('Ready to accept');
    const filtered = await harness.get(
      `/api/redis.readLogs?redisId=${id}&tail=100&since=1h&search=${search}`,
    );
    expect(filtered.status, JSON.stringify(filtered.body)).toBe(200);
    const lines = String(filtered.body).split('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toContain('Ready to accept');
  });
});
