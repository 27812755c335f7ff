/**
 * A server reached over SSH: the controller logs in with the server's private key and speaks
 * to the second engine through `docker system dial-stdio` on the far side.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deployRedis,
  startTestController,
  type TestController,
  uniqueAppName,
} from '../support/controller.js';
import { secondEngine } from '../support/engine.js';
import { redisCommand } from '../support/resp.js';
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

describe('an ssh server', () => {
  it('deploys a database through SSH with the server private key', async () => {
    const created = await controller.client.post('/api/server.create', {
      name: 'ssh engine',
      dockerHost: `ssh://root@127.0.0.1:${ssh.port}`,
      sshPrivateKey: ssh.privateKey,
    });
    expect(created.status).toBe(200);
    const { serverId } = created.body as { serverId: string };

    const row = await deployRedis(controller, {
      appName: uniqueAppName('ssh'),
      databasePassword: PASSWORD,
      dockerImage: secondEngine().redisImage,
      serverId,
    });
    expect(await redisCommand(row.port, PASSWORD, 'PING')).toBe('PONG');
  });
});
