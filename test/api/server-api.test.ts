import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../support/api.js';

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi();
});

afterAll(async () => {
  await api.close();
});

/** A real ed25519 public key and its fingerprint as `ssh-keygen -lf` printed it. */
const HOST_KEY_LINE =
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAID/UJOwOYFoBccydm9ZBmmRMXq+EEPb+1UL7vAw6gzf2 host@example';
const HOST_KEY_FINGERPRINT = 'SHA256:OX6DLEDZodyhNqUlLRHS+2oere5F/lGTd2VUYwtHhvo';

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
    [{ name: 'x', dockerHost: 'tcp://127.0.0.1:99999' }, 'dockerHost'],
    [{ name: 'x', dockerHost: 'tcp://127.0.0.1:0' }, 'dockerHost'],
    [{ name: 'x', dockerHost: 'ssh://root@-oProxyCommand=sh:22' }, 'dockerHost'],
    [{ name: 'x', ipAddress: '::1' }, 'dockerHost'],
    [{ name: 'x', ipAddress: '127.0.0.1:99', port: 22 }, 'dockerHost'],
    [{ name: 'x', dockerHost: 'ssh://root@127.0.0.1', port: 22 }, 'port'],
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

  it('pins a host key given as a public key line or a fingerprint, stored as the fingerprint', async () => {
    const fromLine = await api.client.post('/api/server.create', {
      name: 'pinned-line',
      dockerHost: 'ssh://root@127.0.0.1:2222',
      sshHostKey: HOST_KEY_LINE,
    });
    expect(fromLine.body).toMatchObject({ sshHostKey: `ssh-ed25519 ${HOST_KEY_FINGERPRINT}` });
    const fromFingerprint = await api.client.post('/api/server.create', {
      name: 'pinned-fingerprint',
      dockerHost: 'ssh://root@127.0.0.1:2222',
      sshHostKey: HOST_KEY_FINGERPRINT,
    });
    expect(fromFingerprint.body).toMatchObject({ sshHostKey: HOST_KEY_FINGERPRINT });
  });

  it.each([
    ['ssh-keyscan output', `[127.0.0.1]:2222 ${HOST_KEY_LINE.replace(/ host@example$/, '')}`],
    ['an ssh-keygen -l line', `256 ${HOST_KEY_FINGERPRINT} host@example (ED25519)`],
  ])('reads %s as the typed pin', async (_what, sshHostKey) => {
    const created = await api.client.post('/api/server.create', {
      name: 'pinned-from-tool',
      dockerHost: 'ssh://root@127.0.0.1:2222',
      sshHostKey,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    expect(created.body).toMatchObject({ sshHostKey: `ssh-ed25519 ${HOST_KEY_FINGERPRINT}` });
  });

  it.each([
    [{ sshHostKey: 'ssh-dss AAAAB3NzaC1kc3M=' }, 'sshHostKey'],
    [{ sshHostKey: 'SHA256:short' }, 'sshHostKey'],
    [{ sshHostKey: 'MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48' }, 'sshHostKey'],
    [{ sshHostKey: 'ssh-ed25519 AAAA; touch /tmp/pwned' }, 'sshHostKey'],
    // A key of another type under the ed25519 name.
    [
      { sshHostKey: `ssh-ed25519 ${Buffer.from('\0\0\0\x07ssh-rsaXXXX').toString('base64')}` },
      'sshHostKey',
    ],
    [{ sshHostKey: HOST_KEY_FINGERPRINT, dockerHost: 'tcp://127.0.0.1:2376' }, 'sshHostKey'],
    // Cut short: 31 of the key's 32 bytes.
    [
      {
        sshHostKey: `ssh-ed25519 ${Buffer.from(`\0\0\0\x0bssh-ed25519\0\0\0\x20${'k'.repeat(31)}`).toString('base64')}`,
      },
      'sshHostKey',
    ],
    [{ dockerHost: undefined, port: 22 }, 'port'],
  ])('refuses the host key of %j with 400 naming %s', async (fields, field) => {
    const response = await api.client.post('/api/server.create', {
      name: 'bad-key',
      dockerHost: 'ssh://root@127.0.0.1:2222',
      ...fields,
    });
    expect(response.status).toBe(400);
    expect((response.body as { message: string }).message).toContain(field);
  });

  it('updates a server, forgetting the pinned key when its address moves', async () => {
    const created = await api.client.post('/api/server.create', {
      name: 'movable',
      dockerHost: 'ssh://root@127.0.0.1:2222',
      sshPrivateKey: KEY,
      sshHostKey: HOST_KEY_LINE,
    });
    const { serverId } = created.body as { serverId: string };

    const renamed = await api.client.post('/api/server.update', { serverId, name: 'renamed' });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({
      name: 'renamed',
      sshHostKey: `ssh-ed25519 ${HOST_KEY_FINGERPRINT}`,
      sshPrivateKey: '[set]',
    });

    const moved = await api.client.post('/api/server.update', {
      serverId,
      ipAddress: '127.0.0.1',
      port: 2200,
    });
    expect(moved.body).toMatchObject({ dockerHost: 'ssh://root@127.0.0.1:2200', sshHostKey: null });

    const unknown = await api.client.post('/api/server.update', { serverId: 'nope', name: 'x' });
    expect(unknown.status).toBe(404);
    const bad = await api.client.post('/api/server.update', { serverId, sshHostKey: 'nope' });
    expect(bad.status).toBe(400);
    expect((bad.body as { message: string }).message).toContain('sshHostKey');
    const keyForTcp = await api.client.post('/api/server.update', {
      serverId,
      dockerHost: 'tcp://127.0.0.1:2376',
    });
    expect(keyForTcp.status).toBe(200);
    expect(keyForTcp.body).toMatchObject({ sshHostKey: null });
  });

  it("refuses to change a used server's addresses, but not its name", async () => {
    const created = await api.client.post('/api/server.create', {
      name: 'used',
      dockerHost: 'unix:///var/run/used.sock',
    });
    const { serverId } = created.body as { serverId: string };
    await api.client.post('/api/redis.create', {
      name: 'on used',
      appName: 'on-used-server',
      databasePassword: 'pw',
      environmentId: api.environmentId,
      serverId,
    });
    for (const fields of [
      { dockerHost: 'unix:///var/run/other.sock' },
      { publicHost: 'db.example' },
    ]) {
      const refused = await api.client.post('/api/server.update', { serverId, ...fields });
      expect(refused.status).toBe(409);
      expect((refused.body as { message: string }).message).toContain(Object.keys(fields)[0]);
    }
    const renamed = await api.client.post('/api/server.update', { serverId, name: 'still used' });
    expect(renamed.body).toMatchObject({
      name: 'still used',
      dockerHost: 'unix:///var/run/used.sock',
    });
  });

  it('lets go of databases whose removal waits on a server that is removed', async () => {
    const created = await api.client.post('/api/server.create', {
      name: 'unreachable',
      dockerHost: 'unix:///tmp/redis-controller-test-nonexistent.sock',
    });
    const { serverId } = created.body as { serverId: string };
    const fields = {
      name: 'stuck',
      appName: 'stuck-on-unreachable',
      databasePassword: 'pw',
      environmentId: api.environmentId,
      externalPort: 16501,
    };
    const placed = await api.client.post('/api/redis.create', { ...fields, serverId });
    const { redisId } = placed.body as { redisId: string };
    await api.client.post('/api/redis.remove', { redisId });
    // No controller runs here, so the removal cannot finish: the name and port stay taken.
    const blocked = await api.client.post('/api/redis.create', fields);
    expect(blocked.status).toBe(409);

    const removed = await api.client.post('/api/server.remove', { serverId });
    expect(removed.status).toBe(200);
    const again = await api.client.post('/api/redis.create', fields);
    expect(again.status, JSON.stringify(again.body)).toBe(200);
  });
});
