import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../support/api.js';

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi();
});

afterAll(async () => {
  await api.close();
});

const KEY =
  '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAAsecretkeymaterial\n-----END OPENSSH PRIVATE KEY-----\n';

describe('server verbs', () => {
  it('creates a server from a DOCKER_HOST-style address and never shows its key again', async () => {
    const created = await api.client.post('/api/server.create', {
      name: 'edge-1',
      dockerHost: 'ssh://deploy@127.0.0.1:2222',
      sshPrivateKey: KEY,
    });
    expect(created.status).toBe(200);
    const server = created.body as { serverId: string; sshPrivateKey: string };
    expect(server.sshPrivateKey).toBe('[set]');
    const one = await api.client.get(`/api/server.one?serverId=${server.serverId}`);
    expect(JSON.stringify(one.body)).not.toContain('secretkeymaterial');
    const all = await api.client.get('/api/server.all');
    expect(JSON.stringify(all.body)).not.toContain('secretkeymaterial');
  });

  it("accepts Dokploy's ipAddress, port and username as an ssh address", async () => {
    const created = await api.client.post('/api/server.create', {
      name: 'edge-2',
      ipAddress: '127.0.0.1',
      port: 22,
      username: 'root',
    });
    expect(created.body).toMatchObject({ dockerHost: 'ssh://root@127.0.0.1:22' });
  });

  it.each([
    [{ name: 'x' }, 'dockerHost'],
    [{ name: 'x', dockerHost: 'tcp://host;rm -rf /:2375' }, 'dockerHost'],
    [{ name: 'x', dockerHost: 'http://evil' }, 'dockerHost'],
    [{ name: 'x', dockerHost: 'unix:///var/run/docker.sock', tlsKey: 'not pem' }, 'tlsKey'],
    [{ name: '', dockerHost: 'unix:///x.sock' }, 'name'],
  ])('refuses %j with 400 naming %s', async (body, field) => {
    const response = await api.client.post('/api/server.create', body);
    expect(response.status).toBe(400);
    expect((response.body as { message: string }).message).toContain(field);
  });

  it('places a database on a server, refuses an unknown one, and keeps a used server', async () => {
    const created = await api.client.post('/api/server.create', {
      name: 'edge-3',
      dockerHost: 'unix:///var/run/other.sock',
    });
    const { serverId } = created.body as { serverId: string };
    const base = {
      name: 'placed',
      databasePassword: 'pw',
      environmentId: api.environmentId,
    };
    const unknown = await api.client.post('/api/redis.create', {
      ...base,
      appName: 'placed-unknown',
      serverId: 'nope',
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ message: 'Server not found' });

    const placed = await api.client.post('/api/redis.create', {
      ...base,
      appName: 'placed-db',
      serverId,
    });
    expect(placed.body).toMatchObject({ serverId });
    const refused = await api.client.post('/api/server.remove', { serverId });
    expect(refused.status).toBe(409);

    await api.client.post('/api/redis.deploy', {
      redisId: (placed.body as { redisId: string }).redisId,
    });
    const move = await api.client.post('/api/redis.update', {
      redisId: (placed.body as { redisId: string }).redisId,
      serverId: null,
    });
    expect(move.status).toBe(409);
  });
});
