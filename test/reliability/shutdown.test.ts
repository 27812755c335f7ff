/**
 * Graceful shutdown. SIGTERM reaches the controller (a child process) while it deploys several
 * databases: it exits 0 within the stop timeout, shutting down touches no container (no stop,
 * kill or removal; those already running keep their id and start time), and once started
 * again it brings every database to running without recreating the ones that were fine.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LABELS } from '../../src/runtime/types.js';
import { DATABASE_FILE } from '../../src/store/database.js';
import { testEngine } from '../support/engine.js';
import { freePort, redisCommand } from '../support/resp.js';
import { ChildController, sleep } from './support/child.js';
import { ownedObjects, ownerIdFrom, redisIdOf, removeOwned, testDocker } from './support/owned.js';

const STOP_TIMEOUT_SECONDS = 10;
const STEADY = 2;
const FRESH = 4;
const PASSWORD = 'shutdown-test-password';
/** Engine actions on a container that mean it was stopped, restarted, changed or removed. */
const TOUCHING = new Set(['kill', 'stop', 'die', 'destroy', 'restart', 'pause', 'update', 'oom']);

interface Row {
  redisId: string;
  appName: string;
  applicationStatus: string;
  status: { phase: string; containerId: string | null };
}

interface EngineEvent {
  Action: string;
  timeNano: number;
  Actor: { ID: string; Attributes: Record<string, string> };
}

let docker: Docker;
let dataDir: string;
let child: ChildController;
let environmentId: string;
const appNames: string[] = [];

beforeAll(async () => {
  docker = await testDocker();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rc-shutdown-'));
  child = new ChildController({
    dataDir,
    port: await freePort(),
    dockerHost: testEngine().dockerHost,
    token: 'shutdown-test-token-0123456789',
    env: { STOP_TIMEOUT_SECONDS: String(STOP_TIMEOUT_SECONDS) },
  });
  await child.start();
  const projects = await child.get('/api/project.all');
  const list = projects.body as { environments: { environmentId: string }[] }[];
  environmentId = list[0]?.environments[0]?.environmentId ?? '';
});

afterAll(async () => {
  await child?.stop();
  const owner = await ownerIdFrom(docker, {
    containers: appNames,
    volumes: appNames.map((name) => `${name}-data`),
  });
  if (owner) await removeOwned(docker, owner);
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function createDb(label: string): Promise<Row & { port: number }> {
  const port = await freePort();
  const appName = `shutdown-${label}-${Math.random().toString(36).slice(2, 8)}`;
  appNames.push(appName);
  const answer = await child.post('/api/redis.create', {
    name: appName,
    appName,
    databasePassword: PASSWORD,
    dockerImage: testEngine().redisImage,
    environmentId,
    externalPort: port,
  });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return { ...(answer.body as Row), port };
}

async function waitRunning(redisId: string, timeoutMs = 60_000): Promise<Row> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  while (Date.now() < deadline) {
    const answer = await child.get(`/api/redis.one?redisId=${redisId}`);
    last = answer.body;
    const row = answer.body as Row;
    if (row.applicationStatus === 'done' && row.status.phase === 'Running') return row;
    await sleep(200);
  }
  throw new Error(`redis ${redisId} did not reach done/Running; last: ${JSON.stringify(last)}`);
}

/** Collects the engine's container events for this owner from now on. */
async function recordEvents(ownerId: string): Promise<{ events: EngineEvent[]; end(): void }> {
  const stream = (await docker.getEvents({
    filters: { type: ['container'], label: [`${LABELS.owner}=${ownerId}`] },
  })) as NodeJS.ReadableStream & { destroy(): void };
  const events: EngineEvent[] = [];
  let pending = '';
  stream.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) if (line.trim()) events.push(JSON.parse(line) as EngineEvent);
  });
  return { events, end: () => stream.destroy() };
}

/** Resolves at the first engine `start` of any of these containers. */
async function firstStart(names: string[]): Promise<void> {
  const stream = (await docker.getEvents({
    filters: { type: ['container'], event: ['start'], container: names },
  })) as NodeJS.ReadableStream & { destroy(): void };
  await new Promise<void>((resolve) => stream.once('data', () => resolve()));
  stream.destroy();
}

async function snapshot(
  name: string,
): Promise<{ id: string; startedAt: string; running: boolean }> {
  const info = await docker.getContainer(name).inspect();
  return { id: info.Id, startedAt: info.State.StartedAt, running: info.State.Running };
}

describe('SIGTERM while deploying', () => {
  it('exits 0 in time, touches no container, and converges after a restart', async () => {
    const steady = [];
    for (let index = 0; index < STEADY; index++) steady.push(await createDb(`steady${index}`));
    for (const db of steady) await child.post('/api/redis.deploy', { redisId: db.redisId });
    for (const db of steady) await waitRunning(db.redisId);
    const before = new Map<string, { id: string; startedAt: string; running: boolean }>();
    for (const db of steady) before.set(db.appName, await snapshot(db.appName));
    const ownerId = await ownerIdFrom(docker, {
      containers: [steady[0]?.appName ?? ''],
      volumes: [],
    });
    expect(ownerId, 'the owner label on a deployed container').toBeTruthy();

    const fresh = [];
    for (let index = 0; index < FRESH; index++) fresh.push(await createDb(`fresh${index}`));
    const started = firstStart(fresh.map((db) => db.appName));
    const recorder = await recordEvents(ownerId ?? '');
    await Promise.all(fresh.map((db) => child.post('/api/redis.deploy', { redisId: db.redisId })));
    await started;

    // Mid-deploy: at least one fresh container has just been started and is not yet ready.
    const sigtermAtMs = Date.now();
    const exit = await child.terminate(STOP_TIMEOUT_SECONDS * 1000);
    await sleep(1000);
    recorder.end();

    expect(exit, `the controller exits within ${STOP_TIMEOUT_SECONDS} s of SIGTERM`).not.toBeNull();
    expect(exit?.code, `exit code (log:\n${child.logTail(10)})`).toBe(0);
    const touched = recorder.events
      .filter((event) => event.timeNano / 1e6 >= sigtermAtMs && TOUCHING.has(event.Action))
      .map((event) => `${event.Action} ${event.Actor.Attributes.name}`);
    expect(touched, 'engine actions on containers after SIGTERM').toEqual([]);
    // The point of the test: SIGTERM came while some deploys were still under way.
    const store = new Database(path.join(dataDir, DATABASE_FILE), { readonly: true });
    const phases = fresh.map((db) => {
      const status = store.prepare('SELECT status FROM redis WHERE redisId = ?').pluck();
      return (JSON.parse(status.get(db.redisId) as string) as Row['status']).phase;
    });
    store.close();
    expect(phases, 'phases of the fresh databases at exit').toContain('Deploying');

    for (const db of steady) {
      expect(await snapshot(db.appName), `${db.appName} after shutdown`).toEqual(
        before.get(db.appName),
      );
    }

    await child.start();
    for (const db of [...steady, ...fresh]) {
      const row = await waitRunning(db.redisId);
      expect(await redisCommand(db.port, PASSWORD, 'PING'), db.appName).toBe('PONG');
      const info = await snapshot(db.appName);
      expect(info.running).toBe(true);
      expect(row.status.containerId).toBe(info.id);
    }
    for (const db of steady) {
      expect(await snapshot(db.appName), `${db.appName} after the restart`).toEqual(
        before.get(db.appName),
      );
    }
    const { containers } = await ownedObjects(docker, ownerId ?? '');
    const perRecord = new Map<string, number>();
    for (const container of containers) {
      const redisId = redisIdOf(container) ?? 'none';
      perRecord.set(redisId, (perRecord.get(redisId) ?? 0) + 1);
    }
    expect([...perRecord.values()], 'one container per record').toEqual(
      Array(STEADY + FRESH).fill(1),
    );
    expect(child.unexpectedExits).toEqual([]);
  }, 170_000);
});
