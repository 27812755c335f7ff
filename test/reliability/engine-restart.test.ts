/**
 * The engine restarts in the middle of a sequence of changes: the events stream breaks, the
 * controller reconnects, resyncs, and every database converges within 30 s of the engine's
 * return, with its data. A third private engine of this file's own is restarted, so no other
 * test's engine is touched.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Engine,
  type EngineOptions,
  engineOptionsFromEnv,
  ensureEngine,
  stopEngine,
} from '../../src/cli/engine.js';
import { dockerFromHost } from '../../src/runtime/docker/client.js';
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

const PASSWORD = 'engine-restart-password';
const CONVERGE_MS = 30_000;

const options: EngineOptions = engineOptionsFromEnv({
  ...process.env,
  ENGINE_DIR: process.env.THIRD_ENGINE_DIR || '/var/tmp/redis-controller-engine-3',
  ENGINE_BRIDGE: process.env.THIRD_ENGINE_BRIDGE || 'rcbr3',
  ENGINE_BIP: process.env.THIRD_ENGINE_BIP || '10.214.0.1/24',
  REDIS_IMAGE: testEngine().redisImage,
});

let engine: Engine;
let controller: TestController;

beforeAll(async () => {
  engine = await ensureEngine(options);
  controller = await startTestController({ DOCKER_HOST: engine.dockerHost });
});

afterAll(async () => {
  await controller?.stop();
  await stopEngine(options.dir, options.log);
});

function deployed(): Promise<RedisRow & { port: number }> {
  return deployRedis(controller, {
    appName: uniqueAppName('restart'),
    databasePassword: PASSWORD,
  });
}

describe('an engine restart in the middle of changes', () => {
  it('converges every database within 30 s of the engine coming back, data kept', async () => {
    const kept = await deployed();
    const changed = await deployed();
    expect(await redisCommand(kept.port, PASSWORD, 'SET', 'k', 'kept')).toBe('OK');
    expect(await redisCommand(changed.port, PASSWORD, 'SET', 'k', 'changed')).toBe('OK');

    await stopEngine(options.dir, options.log);
    // Changes made while the engine is away are carried out once it is back.
    const saved = await controller.client.post('/api/redis.saveEnvironment', {
      redisId: changed.redisId,
      env: 'AFTER_RESTART=yes',
    });
    expect(saved.status).toBe(200);
    await ensureEngine(options);
    const back = Date.now();

    for (const row of [kept, changed]) {
      await waitForRedis(
        controller.client,
        row.redisId,
        (r) =>
          isDone(r) &&
          (r.status as { observedGeneration: number }).observedGeneration === r.generation,
        CONVERGE_MS,
      );
    }
    // The deadline above is the bound; the figure is printed for the record.
    process.stdout.write(`engine restart: converged ${Date.now() - back} ms after it was back\n`);

    const docker = dockerFromHost(engine.dockerHost);
    const info = await docker.getContainer(changed.appName).inspect();
    expect(info.Config.Env).toContain('AFTER_RESTART=yes');

    expect(await redisCommand(kept.port, PASSWORD, 'GET', 'k')).toBe('kept');
    expect(await redisCommand(changed.port, PASSWORD, 'GET', 'k')).toBe('changed');
  });
});
