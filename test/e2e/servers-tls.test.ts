/**
 * A server reached over TCP with mutual TLS: the controller speaks TLS with the server's
 * certificates to a TLS front of the second engine, and refuses an engine it cannot verify.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createRedis,
  deployRedis,
  startTestController,
  type TestController,
  uniqueAppName,
  waitForRedis,
} from '../support/controller.js';
import { secondEngine } from '../support/engine.js';
import { redisCommand } from '../support/resp.js';
import { makeTlsMaterial, type TlsFront, type TlsMaterial, tlsFront } from '../support/tls.js';

const PASSWORD = 'tls-server-password';

let controller: TestController;
let material: TlsMaterial;
let front: TlsFront;

beforeAll(async () => {
  material = await makeTlsMaterial();
  front = await tlsFront(material, secondEngine().dockerHost.replace(/^unix:\/\//, ''));
  controller = await startTestController();
});

afterAll(async () => {
  await controller?.stop();
  await front?.close();
});

async function serverWith(fields: Record<string, unknown>): Promise<string> {
  const created = await controller.client.post('/api/server.create', {
    name: 'tls engine',
    dockerHost: `tcp://127.0.0.1:${front.port}`,
    ...fields,
  });
  expect(created.status).toBe(200);
  return (created.body as { serverId: string }).serverId;
}

describe('a tcp server with TLS', () => {
  it('deploys through mutual TLS with the server certificates', async () => {
    const serverId = await serverWith({
      tlsCa: material.ca,
      tlsCert: material.clientCert,
      tlsKey: material.clientKey,
    });
    const row = await deployRedis(controller, {
      appName: uniqueAppName('tls'),
      databasePassword: PASSWORD,
      dockerImage: secondEngine().redisImage,
      serverId,
    });
    expect(await redisCommand(row.port, PASSWORD, 'PING')).toBe('PONG');
    expect(front.authorized).toBeGreaterThan(0);
    await controller.client.post('/api/redis.remove', { redisId: row.redisId });
  });

  it('reports an error, and deploys nothing, without a client certificate', async () => {
    const serverId = await serverWith({ tlsCa: material.ca });
    const row = await createRedis(controller, {
      appName: uniqueAppName('notls'),
      databasePassword: PASSWORD,
      dockerImage: secondEngine().redisImage,
      serverId,
    });
    await controller.client.post('/api/redis.deploy', { redisId: row.redisId });
    const failed = await waitForRedis(
      controller.client,
      row.redisId,
      (r) => r.applicationStatus === 'error',
    );
    expect(failed.status.lastError).toBeTruthy();
    await controller.client.post('/api/redis.remove', { redisId: row.redisId });
  });
});
