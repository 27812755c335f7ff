/**
 * A server reached over SSH: the controller logs in with the server's private key and speaks
 * to the second engine through `docker system dial-stdio` on the far side, after checking the
 * SSH server's host key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerFromHost } from '../../src/runtime/docker/client.js';
import {
  createRedis,
  deployRedis,
  isDone,
  startTestController,
  type TestController,
  uniqueAppName,
  waitForRedis,
} from '../support/controller.js';
import { secondEngine } from '../support/engine.js';
import { freePort, redisCommand } from '../support/resp.js';
import { type SshServer, startSshServer } from '../support/ssh-server.js';

const PASSWORD = 'ssh-server-password';

let controller: TestController;
let ssh: SshServer;

beforeAll(async () => {
  ssh = await startSshServer(secondEngine().dockerHost);
  controller = await startTestController();
});

afterAll(async () => {
  await controller?.stop();
  await ssh?.stop();
});

async function createServer(fields: Record<string, unknown> = {}): Promise<string> {
  const created = await controller.client.post('/api/server.create', {
    name: 'ssh engine',
    dockerHost: `ssh://root@127.0.0.1:${ssh.port}`,
    sshPrivateKey: ssh.privateKey,
    ...fields,
  });
  expect(created.status, JSON.stringify(created.body)).toBe(200);
  return (created.body as { serverId: string }).serverId;
}

async function pinnedKey(serverId: string): Promise<unknown> {
  const server = await controller.client.get(`/api/server.one?serverId=${serverId}`);
  return (server.body as { sshHostKey: unknown }).sshHostKey;
}

describe('an ssh server', () => {
  it('deploys through SSH with the private key, pinning the host key it was first shown', async () => {
    const serverId = await createServer();
    expect(await pinnedKey(serverId)).toBeNull();

    const row = await deployRedis(controller, {
      appName: uniqueAppName('ssh'),
      databasePassword: PASSWORD,
      dockerImage: secondEngine().redisImage,
      serverId,
    });
    expect(await redisCommand(row.port, PASSWORD, 'PING')).toBe('PONG');
    expect(await pinnedKey(serverId)).toBe(`ssh-ed25519 ${ssh.hostKeyFingerprint}`);
  });

  it('refuses a host key other than the pinned one, and goes on once the right one is set', async () => {
    // Pinned to another key: whoever answers at that address is not trusted.
    const serverId = await createServer({ sshHostKey: ssh.clientKeyFingerprint });
    const appName = uniqueAppName('sshpin');
    const port = await freePort();
    const row = await createRedis(controller, {
      appName,
      databasePassword: PASSWORD,
      dockerImage: secondEngine().redisImage,
      externalPort: port,
      serverId,
    });
    await controller.client.post('/api/redis.deploy', { redisId: row.redisId });
    const refused = await waitForRedis(
      controller.client,
      row.redisId,
      (view) => view.applicationStatus === 'error',
    );
    expect(refused.status.lastError).toMatch(/host key is not the one pinned/);
    // The key shown is named, so the user can check it against the server's own.
    expect(refused.status.lastError).toContain(
      `the server showed ssh-ed25519 ${ssh.hostKeyFingerprint}`,
    );
    const found = await dockerFromHost(secondEngine().dockerHost).listContainers({
      all: true,
      filters: { name: [appName] },
    });
    expect(found).toEqual([]);

    // The server's RSA key, as its .pub file holds it: the controller must ask for that key,
    // not the ed25519 one the server would otherwise show first.
    const updated = await controller.client.post('/api/server.update', {
      serverId,
      sshHostKey: ssh.hostRsaPublicKey,
    });
    expect(updated.status, JSON.stringify(updated.body)).toBe(200);
    expect(await pinnedKey(serverId)).toMatch(/^ssh-rsa SHA256:/);
    await waitForRedis(controller.client, row.redisId, isDone);
    expect(await redisCommand(port, PASSWORD, 'PING')).toBe('PONG');
  });
});
