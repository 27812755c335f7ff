/**
 * The controller creates a container and then writes its config file into it: two engine calls.
 * Here it is killed with SIGKILL the moment the engine reports the container created, which
 * usually lands between the two, and is started again. The container it left must not stay
 * broken: the database must come up, with its data.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIG_PATH } from '../../src/runtime/redis-config.js';
import { testEngine } from '../support/engine.js';
import { freePort } from '../support/resp.js';
import { ChildController, sleep } from './support/child.js';
import { type KeyHolder, lostKeys, writeKeys } from './support/keys.js';
import { ownerIdFrom, removeOwned, testDocker } from './support/owned.js';

const PASSWORD = 'create-window-password';
/** How long a database may take to come up after the restart. */
const CONVERGE_TIMEOUT_MS = 30_000;

interface Row {
  redisId: string;
  applicationStatus: string;
  generation: number;
  status: { phase: string; observedGeneration: number; lastError: string | null };
}

let docker: Docker;
let dataDir: string;
let child: ChildController;
let environmentId: string;
const appNames: string[] = [];

beforeAll(async () => {
  docker = await testDocker();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rc-crash-window-'));
  child = new ChildController({
    dataDir,
    port: await freePort(),
    dockerHost: testEngine().dockerHost,
    token: 'crash-window-token-0123456789',
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

/**
 * Arms a SIGKILL of the controller for the engine's next `create` of the container; the
 * returned wait resolves, once the controller is dead, with the id of the container created.
 */
async function killOnCreate(appName: string): Promise<() => Promise<string>> {
  const events = (await docker.getEvents({
    filters: { type: ['container'], event: ['create'], container: [appName] },
  })) as NodeJS.ReadableStream & { destroy(): void };
  const killed = new Promise<string>((resolve) => {
    events.once('data', (chunk: Buffer) => {
      const { id } = JSON.parse(chunk.toString().split('\n')[0] ?? '{}') as { id: string };
      void child.kill9().then(() => resolve(id));
    });
  });
  return async () => {
    const id = await killed;
    events.destroy();
    return id;
  };
}

/** Waits until the database runs and its status answers the latest change stored. */
async function waitConverged(redisId: string, what: string): Promise<Row> {
  const deadline = Date.now() + CONVERGE_TIMEOUT_MS;
  let last: unknown = null;
  while (Date.now() < deadline) {
    const answer = await child.get(`/api/redis.one?redisId=${redisId}`);
    last = answer.body;
    const row = answer.body as Row;
    const done = row.applicationStatus === 'done' && row.status.phase === 'Running';
    if (done && row.status.observedGeneration === row.generation) return row;
    await sleep(200);
  }
  throw new Error(
    `${what}: not running within ${CONVERGE_TIMEOUT_MS} ms of the restart; ` +
      `last row: ${JSON.stringify(last)}`,
  );
}

async function createDb(): Promise<{ redisId: string; db: KeyHolder }> {
  const appName = `crash-window-${Math.random().toString(36).slice(2, 8)}`;
  appNames.push(appName);
  const port = await freePort();
  const created = await child.post('/api/redis.create', {
    name: 'create window',
    appName,
    databasePassword: PASSWORD,
    dockerImage: testEngine().redisImage,
    environmentId,
    externalPort: port,
  });
  expect(created.status, JSON.stringify(created.body)).toBe(200);
  const { redisId } = created.body as Row;
  return { redisId, db: { appName, password: PASSWORD, port, keys: new Map() } };
}

/** Whether the container holds its config file, which the controller writes after creating it. */
async function hasConfig(appName: string): Promise<boolean> {
  try {
    await docker.getContainer(appName).getArchive({ path: CONFIG_PATH });
    return true;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return false;
    throw error;
  }
}

/** The kill races the controller's next engine call; this many tries usually land one inside. */
const ATTEMPTS = 5;

describe('a controller killed right after the engine created a container', () => {
  it('brings up a database whose first start created it', async () => {
    let windowHit = false;
    for (let attempt = 1; attempt <= ATTEMPTS && !windowHit; attempt++) {
      const { redisId, db } = await createDb();
      // A start carries no deploy request, so nothing forces the container to be recreated.
      const killed = await killOnCreate(db.appName);
      await child.post('/api/redis.start', { redisId });
      await killed();
      windowHit = !(await hasConfig(db.appName));
      await child.start();
      await waitConverged(
        redisId,
        `attempt ${attempt}: a database started just before the crash ` +
          `(${windowHit ? 'killed before' : 'killed after'} its config file was written)`,
      );
    }
    if (!windowHit) console.info(`no kill landed before the config file in ${ATTEMPTS} tries`);
    expect(child.unexpectedExits).toEqual([]);
  }, 150_000);

  it('brings up a database whose update recreated it, with its data', async () => {
    const { redisId, db } = await createDb();
    await child.post('/api/redis.deploy', { redisId });
    await waitConverged(redisId, 'a database deployed without a crash');

    let windowHit = false;
    for (let attempt = 1; attempt <= ATTEMPTS && !windowHit; attempt++) {
      await writeKeys(db, `window${attempt}`, 3);
      const killed = await killOnCreate(db.appName);
      await child.post('/api/redis.update', { redisId, env: `AFTER_CRASH=${attempt}` });
      await killed();
      windowHit = !(await hasConfig(db.appName));
      await child.start();
      await waitConverged(
        redisId,
        `attempt ${attempt}: a database updated just before the crash ` +
          `(${windowHit ? 'killed before' : 'killed after'} its config file was written)`,
      );
      expect(await lostKeys(db), `keys lost on attempt ${attempt}`).toEqual([]);
    }
    if (!windowHit) console.info(`no kill landed before the config file in ${ATTEMPTS} tries`);
    expect(child.unexpectedExits).toEqual([]);
  }, 150_000);

  it('carries out a deploy once when killed after it made the new container', async () => {
    const { redisId, db } = await createDb();
    await child.post('/api/redis.deploy', { redisId });
    await waitConverged(redisId, 'a database deployed without a crash');
    await writeKeys(db, 'redeploy', 3);

    const killed = await killOnCreate(db.appName);
    await child.post('/api/redis.deploy', { redisId });
    const createdId = await killed();
    await child.start();
    const row = await waitConverged(redisId, 'a database deployed again just before the crash');
    // The container made before the crash is the deploy's; the restart finished it instead of
    // making another.
    const running = await docker.getContainer(db.appName).inspect();
    expect(running.Id).toBe(createdId);
    expect(row.status.observedGeneration).toBe(row.generation);
    expect(await lostKeys(db)).toEqual([]);
    expect(child.unexpectedExits).toEqual([]);
  }, 150_000);
});
