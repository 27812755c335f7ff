/**
 * Shutdown when the step in flight never ends: an engine that takes connections and answers
 * nothing (as one does while a container is wedged in it). SIGTERM waits the stop timeout and a
 * margin for the step, then gives it up and exits, saying so, instead of hanging until killed.
 *
 * The engine here is a socket of the test's own: no real engine can be made to hang on cue.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/resp.js';
import { ChildController, sleep } from './support/child.js';

const STOP_TIMEOUT_SECONDS = 1;

let dataDir: string;
let engine: net.Server;
const held: net.Socket[] = [];
let child: ChildController;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rc-stuck-'));
  const socketPath = path.join(dataDir, 'silent-engine.sock');
  engine = net.createServer((socket) => {
    held.push(socket);
  });
  await new Promise<void>((resolve) => engine.listen(socketPath, resolve));
  child = new ChildController({
    dataDir,
    port: await freePort(),
    dockerHost: `unix://${socketPath}`,
    token: 'stuck-engine-test-token-0123456789',
    env: { STOP_TIMEOUT_SECONDS: String(STOP_TIMEOUT_SECONDS) },
  });
  await child.start();
});

afterAll(async () => {
  await child?.stop();
  for (const socket of held) socket.destroy();
  await new Promise((resolve) => engine?.close(resolve));
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('SIGTERM while the engine does not answer', () => {
  it('gives up the step in flight after the stop timeout and a margin, and exits', async () => {
    const projects = (await child.get('/api/project.all')).body as {
      environments: { environmentId: string }[];
    }[];
    const created = await child.post('/api/redis.create', {
      name: 'stuck',
      appName: 'stuck-engine-db',
      databasePassword: 'stuck-engine-password',
      dockerImage: 'redis-controller/redis:local',
      environmentId: projects[0]?.environments[0]?.environmentId,
    });
    expect(created.status).toBe(200);
    const { redisId } = created.body as { redisId: string };
    const connectionsBefore = held.length;
    expect((await child.post('/api/redis.deploy', { redisId })).status).toBe(200);
    // The reconcile's first engine call is now waiting for an answer that never comes.
    for (let waited = 0; held.length === connectionsBefore && waited < 10_000; waited += 50) {
      await sleep(50);
    }
    expect(held.length, 'the deploy reached the engine').toBeGreaterThan(connectionsBefore);

    const exit = await child.terminate(60_000);
    expect(exit, `the controller exits (log:\n${child.logTail(10)})`).not.toBeNull();
    expect(exit?.code).toBe(1);
    expect(child.logTail(5)).toMatch(/the step in flight did not finish in time/);
  });
});
