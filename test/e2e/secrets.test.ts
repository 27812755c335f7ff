/**
 * The password and env secrets appear nowhere but inside the container's config and env: not
 * in the database file, the log, or the container's process arguments and labels.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerFromHost } from '../../src/runtime/docker/client.js';
import { DATABASE_FILE } from '../../src/store/database.js';
import { KEY_FILE } from '../../src/store/secret-box.js';
import {
  createRedis,
  isDone,
  startTestController,
  type TestController,
  uniqueAppName,
  waitForRedis,
} from '../support/controller.js';
import { testEngine } from '../support/engine.js';
import { freePort, redisCommand } from '../support/resp.js';

const PASSWORD = `Sekr1t-${Date.now()}-pa55`;
const NEW_PASSWORD = `Sekr2t-${Date.now()}-pa55`;
const ENV_SECRET = `env-value-${Date.now()}`;

let controller: TestController;

beforeAll(async () => {
  controller = await startTestController();
});

afterAll(async () => {
  await controller?.stop();
});

function databaseBytes(): Buffer {
  controller.running.store.db.pragma('wal_checkpoint(TRUNCATE)');
  const files = fs
    .readdirSync(controller.dataDir)
    .filter((name) => name.startsWith(DATABASE_FILE))
    .map((name) => fs.readFileSync(path.join(controller.dataDir, name)));
  return Buffer.concat(files);
}

describe('secrets at rest and in flight', () => {
  it('keeps the password and env out of the database file, the log and docker inspect', async () => {
    const port = await freePort();
    const row = await createRedis(controller, {
      name: 'secrets',
      appName: uniqueAppName('secrets'),
      databasePassword: PASSWORD,
      externalPort: port,
      env: `TOKEN=${ENV_SECRET}`,
    });
    await controller.client.post('/api/redis.deploy', { redisId: row.redisId });
    await waitForRedis(controller.client, row.redisId, isDone);
    expect(await redisCommand(port, PASSWORD, 'PING')).toBe('PONG');

    await controller.client.post('/api/redis.changePassword', {
      redisId: row.redisId,
      password: NEW_PASSWORD,
    });
    await waitForRedis(
      controller.client,
      row.redisId,
      (r) =>
        (r.status as { appliedPasswordFingerprint?: string }).appliedPasswordFingerprint !==
          undefined && r.applicationStatus === 'done',
    );
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && (await redisCommand(port, NEW_PASSWORD, 'PING')) !== 'PONG') {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(await redisCommand(port, NEW_PASSWORD, 'PING')).toBe('PONG');

    const database = databaseBytes();
    for (const secret of [PASSWORD, NEW_PASSWORD, ENV_SECRET]) {
      expect(database.includes(Buffer.from(secret))).toBe(false);
    }
    expect(fs.statSync(path.join(controller.dataDir, KEY_FILE)).mode & 0o777).toBe(0o600);

    const log = fs.readFileSync(controller.logFile, 'utf8');
    expect(log).not.toContain(PASSWORD);
    expect(log).not.toContain(NEW_PASSWORD);

    const docker = dockerFromHost(testEngine().dockerHost);
    const inspect = await docker.getContainer(row.appName).inspect();
    const visible = JSON.stringify([
      inspect.Path,
      inspect.Args,
      inspect.Config.Cmd,
      inspect.Config.Entrypoint,
      inspect.Config.Labels,
      inspect.Config.Env,
    ]);
    expect(visible).not.toContain(PASSWORD);
    expect(visible).not.toContain(NEW_PASSWORD);
  });
});
