/**
 * Crash safety. A seeded script of operations over a few databases runs against the controller
 * as a child process, which is killed with SIGKILL at seeded points (while a request is in
 * flight, right after one is answered, or in the middle of converging) and started again on the
 * same data directory. In the end every record converges, each has exactly the container its
 * state calls for, nothing this controller owns is left without a record, and no key written
 * before an operation that keeps data is lost.
 *
 * The seed is printed and is part of the test name; RELIABILITY_SEED=<seed> replays the same
 * script (kill points land at the same steps, though not at the same instant of convergence).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_FILE } from '../../src/store/database.js';
import { testEngine } from '../support/engine.js';
import { freePort } from '../support/resp.js';
import { ChildController, sleep } from './support/child.js';
import { engineProblems } from './support/engine-check.js';
import { keyCount, lostKeys, writeKeys } from './support/keys.js';
import { ownedObjects, ownerIdFrom, redisIdOf, removeOwned, testDocker } from './support/owned.js';
import {
  type Db,
  KEEPS_DATA,
  MEMORY_LIMITS,
  type Operation,
  type OpKind,
  operation,
  pickOp,
  type Row,
  seededRandom,
} from './support/script.js';

const SEED = seedFrom(process.env.RELIABILITY_SEED);
const SLOTS = 4;
const STEPS = 80;
const KILL_CHANCE = 0.35;
const KEYS_PER_WRITE = 3;
/** How long one database may take to converge after a request, restarts included. */
const CONVERGE_TIMEOUT_MS = 60_000;

type KillMode = 'in-flight' | 'after-response' | 'mid-convergence';

/** RELIABILITY_SEED when given (a positive integer), else a fresh one. */
function seedFrom(given: string | undefined): number {
  if (!given) return crypto.randomInt(1, 2 ** 31);
  const seed = Number(given);
  if (!Number.isSafeInteger(seed) || seed <= 0) {
    throw new Error(`RELIABILITY_SEED must be a positive integer, got "${given}"`);
  }
  return seed;
}

const random = seededRandom(SEED);
const prefix = `crash-${SEED.toString(36)}`;
const problems: string[] = [];
const journal: string[] = [];
const slots: (Db | null)[] = Array.from({ length: SLOTS }, () => null);
const removed: { redisId: string; appName: string; port: number | null }[] = [];
const appNames: string[] = [];
const stats = { kills: 0, keysWritten: 0, keysChecked: 0 };

let docker: Docker;
let dataDir: string;
let child: ChildController;
let environmentId: string;
let ownerId: string | null = null;
let passed = false;

beforeAll(async () => {
  docker = await testDocker();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rc-crash-'));
  child = new ChildController({
    dataDir,
    port: await freePort(),
    dockerHost: testEngine().dockerHost,
    token: `crash-test-token-${SEED}-0123456789`,
  });
  console.info(`crash test: seed ${SEED} (RELIABILITY_SEED=${SEED}), data in ${dataDir}`);
  await child.start();
  const projects = await child.get('/api/project.all');
  const list = projects.body as { environments: { environmentId: string }[] }[];
  environmentId = list[0]?.environments[0]?.environmentId ?? '';
  expect(environmentId, 'the seeded default environment').not.toBe('');
});

afterAll(async () => {
  await child?.stop();
  ownerId ??= await ownerIdFrom(docker, {
    containers: appNames,
    volumes: appNames.map((name) => `${name}-data`),
  });
  if (ownerId) await removeOwned(docker, ownerId);
  // Kept on failure, with the controller's log, for the diagnosis.
  if (passed) fs.rmSync(dataDir, { recursive: true, force: true });
  else console.info(`crash test (seed ${SEED}): data and log kept in ${dataDir}`);
});

function note(line: string): void {
  journal.push(line);
}

function problem(message: string): void {
  problems.push(`[seed ${SEED}] ${message}`);
}

async function readRow(redisId: string): Promise<Row | null> {
  const answer = await child.get(`/api/redis.one?redisId=${encodeURIComponent(redisId)}`);
  if (answer.status === 404) return null;
  if (answer.status !== 200) {
    throw new Error(`redis.one ${redisId} answered ${answer.status}: ${JSON.stringify(answer)}`);
  }
  return answer.body as Row;
}

async function findByAppName(appName: string): Promise<Row | null> {
  const answer = await child.get('/api/redis.all');
  return (answer.body as Row[]).find((row) => row.appName === appName) ?? null;
}

function isConverged(db: Db, row: Row): boolean {
  const status = row.status;
  // A record never deployed has nothing to reconcile; the controller leaves its status alone.
  if (db.desired === 'undeployed') return status.phase === 'Pending';
  const requestsDone =
    status.appliedDeployRequests === row.deployRequests &&
    status.appliedRestartRequests === row.restartRequests &&
    status.appliedRebuildRequests === row.rebuildRequests;
  if (!requestsDone || status.observedGeneration !== row.generation) return false;
  if (db.desired === 'stopped') return status.phase === 'Stopped';
  return (
    status.phase === 'Running' &&
    status.conditions.some((c) => c.type === 'Ready' && c.status === 'True')
  );
}

/** Polls until the database's status shows its desired state reached; fails at the deadline. */
async function waitConverged(db: Db, timeoutMs = CONVERGE_TIMEOUT_MS): Promise<Row> {
  const deadline = Date.now() + timeoutMs;
  let last: Row | null = null;
  while (Date.now() < deadline) {
    last = await readRow(db.redisId);
    if (last && isConverged(db, last)) return last;
    await sleep(150);
  }
  throw new Error(
    `[seed ${SEED}] ${db.appName} (${db.redisId}) did not converge to ${db.desired} within ` +
      `${timeoutMs} ms; last row: ${JSON.stringify(last)}\nscript so far:\n${journal.join('\n')}` +
      `\ncontroller log:\n${child.logTail(30)}`,
  );
}

/** Checks every remembered key; a lost one is reported once. */
async function verifyKeys(db: Db, when: string): Promise<void> {
  stats.keysChecked += db.keys.size;
  const lost = await lostKeys(db);
  if (lost.length > 0)
    problem(`${db.appName}: ${lost.length} key(s) lost ${when}: ${lost.join(', ')}`);
}

async function writeStepKeys(db: Db, step: number): Promise<void> {
  if (db.wiped) {
    // New, or rebuilt: nothing of an earlier life (or an earlier database of that name) remains.
    const count = await keyCount(db);
    if (count !== 0) problem(`${db.appName} holds ${count} key(s) after a create or rebuild`);
    db.wiped = false;
  }
  await writeKeys(db, `${step}`, KEYS_PER_WRITE);
  stats.keysWritten += KEYS_PER_WRITE;
}

/** A free port that no record holds, removed ones included (their row may not be gone yet). */
async function portNotInUse(): Promise<number> {
  const taken = new Set([...slots.map((db) => db?.port), ...removed.map((entry) => entry.port)]);
  for (;;) {
    const port = await freePort();
    if (!taken.has(port)) return port;
  }
}

async function restart(reason: string): Promise<void> {
  await child.kill9();
  stats.kills++;
  note(`    kill -9 (${reason}); restart`);
  await child.start();
}

/** Sends the operation, killing the controller as `kill` says; returns the answer if any. */
async function send(
  op: Operation,
  kill: KillMode | null,
  delayMs: number,
): Promise<{ status: number; body: unknown } | null> {
  if (kill === 'in-flight') {
    // The connection dies with the process: no answer is an answer too.
    const pending = child.post(op.path, op.body).catch(() => null);
    await sleep(delayMs);
    await restart(`${delayMs} ms after sending ${op.kind}`);
    return pending;
  }
  const answer = await child.post(op.path, op.body);
  if (kill === 'after-response') await restart(`right after ${op.kind} was answered`);
  if (kill === 'mid-convergence') {
    await sleep(delayMs);
    await restart(`${delayMs} ms into converging ${op.kind}`);
  }
  return answer;
}

function stillRemoving(answer: { status: number; body: unknown } | null): boolean {
  return answer?.status === 409 && /still being removed/.test(JSON.stringify(answer.body));
}

/**
 * Creates a database in `slot`. With `reuseName`, it takes the name of the last database removed
 * (refused while that one is still being removed), as a user recreating a database would.
 */
async function createDb(
  slot: number,
  step: number,
  options: { withPort: boolean; reuseName: boolean },
  kill: KillMode | null,
  delayMs: number,
): Promise<void> {
  const liveNames = new Set(slots.map((db) => db?.appName));
  const previous = removed.findLast((entry) => !liveNames.has(entry.appName));
  const appName = options.reuseName && previous ? previous.appName : `${prefix}-${slot}-${step}`;
  appNames.push(appName);
  const withPort = options.withPort;
  const port = withPort ? await portNotInUse() : null;
  const password = `pw ${step}$;@'${SEED}`;
  const body = {
    name: `crash ${slot}`,
    appName,
    databasePassword: password,
    dockerImage: testEngine().redisImage,
    environmentId,
    ...(port !== null && { externalPort: port }),
  };
  const create: Operation = {
    kind: 'create',
    path: '/api/redis.create',
    body,
    applied: (row) => row !== null,
    commit: () => undefined,
  };
  let answer = await send(create, kill, delayMs);
  // The API asks to retry while the name's previous holder is being removed; so does a user.
  const deadline = Date.now() + CONVERGE_TIMEOUT_MS;
  while (stillRemoving(answer) && Date.now() < deadline) {
    await sleep(250);
    answer = await child.post(create.path, create.body);
  }
  const row =
    answer?.status === 200 ? (answer.body as Row) : kill ? await findByAppName(appName) : null;
  if (!row) {
    if (answer && answer.status !== 200) problem(`create ${appName}: ${JSON.stringify(answer)}`);
    note(`    create ${appName} not applied`);
    return;
  }
  if (options.reuseName && previous?.appName === appName) note(`    reused the name ${appName}`);
  slots[slot] = {
    slot,
    redisId: row.redisId,
    appName,
    password,
    port,
    desired: 'undeployed',
    materialized: false,
    env: null,
    memoryLimit: null,
    deployRequests: 0,
    restartRequests: 0,
    rebuildRequests: 0,
    keys: new Map(),
    wiped: true,
  };
}

async function runStep(step: number): Promise<void> {
  // A fixed number of draws per step keeps the script the same whatever each step does.
  const [slotDraw, opDraw, killDraw, modeDraw, delayDraw, valueDraw, fieldDraw] = Array.from(
    { length: 7 },
    random,
  ) as [number, number, number, number, number, number, number];
  const slot = Math.floor(slotDraw * SLOTS);
  let kill: KillMode | null = null;
  if (killDraw < KILL_CHANCE) {
    kill = modeDraw < 0.3 ? 'in-flight' : modeDraw < 0.55 ? 'after-response' : 'mid-convergence';
  }
  // Most mid-convergence kills land early, where a deploy (about half a second) is in progress.
  const delayMs =
    kill === 'in-flight' ? Math.floor(delayDraw * 20) : 20 + Math.floor(delayDraw ** 2 * 1500);

  const db = slots[slot];
  if (!db) {
    note(`#${step} create in slot ${slot}${kill ? ` [kill ${kill}]` : ''}`);
    const options = { withPort: valueDraw < 0.5, reuseName: fieldDraw < 0.4 };
    await createDb(slot, step, options, kill, delayMs);
    return;
  }
  const kind: OpKind = pickOp(db, opDraw);
  note(`#${step} ${kind} ${db.appName} (was ${db.desired})${kill ? ` [kill ${kill}]` : ''}`);

  if (KEEPS_DATA.has(kind) && db.desired === 'running') {
    await waitConverged(db);
    if (db.port !== null) {
      await verifyKeys(db, `before step ${step}`);
      await writeStepKeys(db, step);
    }
  }

  const memoryChoices = MEMORY_LIMITS.filter((limit) => limit !== db.memoryLimit);
  const values = {
    step,
    port: kind === 'saveExternalPort' ? await portNotInUse() : 0,
    password: `new pw ${step}$;'@${SEED}`,
    env: `STEP=${step}\nSEED=${SEED}`,
    memoryLimit: memoryChoices[Math.floor(valueDraw * memoryChoices.length)] ?? '256m',
    updateFields: fieldDraw < 0.4 ? 'env' : fieldDraw < 0.7 ? 'memory' : 'both',
  } as const;
  const op = operation(kind as Exclude<OpKind, 'create'>, db, values);
  const answer = await send(op, kill, delayMs);

  if (answer && answer.status !== 200) {
    problem(`step ${step} ${kind} ${db.appName} answered ${JSON.stringify(answer)}`);
    return;
  }
  // After a kill, the stored record tells whether the request took effect; one that was
  // answered must have, or an acknowledged request was lost.
  const row = kill ? await readRow(db.redisId) : null;
  if (kill && answer && !op.applied(row)) {
    problem(`step ${step}: ${kind} on ${db.appName} was answered 200 but is not in the record`);
  }
  if (answer || op.applied(row)) {
    op.commit();
    if (kind === 'remove') {
      removed.push({ redisId: db.redisId, appName: db.appName, port: db.port });
      slots[slot] = null;
    }
  } else {
    note(`    ${kind} not applied`);
  }
}

async function learnOwnerId(): Promise<string | null> {
  ownerId ??= await ownerIdFrom(docker, {
    containers: appNames,
    volumes: appNames.map((name) => `${name}-data`),
  });
  return ownerId;
}

/** Waits until removed databases have nothing left on the engine. */
async function waitRemovedGone(timeoutMs: number): Promise<void> {
  const owner = await learnOwnerId();
  if (!owner) return;
  const gone = new Set(removed.map((entry) => entry.redisId));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { containers, volumes } = await ownedObjects(docker, owner);
    const left = [...containers, ...volumes].filter((object) => gone.has(redisIdOf(object) ?? ''));
    if (left.length === 0) return;
    if (Date.now() >= deadline) {
      throw new Error(`removed databases still have engine objects: ${JSON.stringify(left)}`);
    }
    await sleep(250);
  }
}

function live(): Db[] {
  return slots.filter((db): db is Db => db !== null);
}

/** Every record's containers and volumes, and nothing of this owner without a record. */
async function checkEngine(rows: Map<string, Row>): Promise<void> {
  const owner = await learnOwnerId();
  if (!owner) {
    problem('no container or volume was ever created, so the script tested nothing');
    return;
  }
  const owned = await ownedObjects(docker, owner);
  const inspect = (id: string) => docker.getContainer(id).inspect();
  for (const found of await engineProblems(owned, live(), rows, inspect)) problem(found);
}

describe('a controller killed with SIGKILL at random points', () => {
  it(`converges with no duplicate, no orphan and no lost key (seed ${SEED})`, async () => {
    try {
      await scenario();
    } catch (error) {
      // Whatever broke, the script and the controller's last words are what explain it.
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(
        `[seed ${SEED}] ${reason}\nscript so far:\n${journal.join('\n')}` +
          `\ncontroller log:\n${child.logTail(30)}`,
        { cause: error },
      );
    }
  }, 240_000);
});

/** The scripted steps, the final restart, and every check on what they left. */
async function scenario(): Promise<void> {
  for (let step = 1; step <= STEPS; step++) await runStep(step);

  await restart('final restart');
  const rows = new Map<string, Row>();
  for (const db of live()) rows.set(db.redisId, await waitConverged(db));
  for (const entry of removed) {
    if ((await readRow(entry.redisId)) !== null) problem(`${entry.appName} is still listed`);
  }
  await waitRemovedGone(CONVERGE_TIMEOUT_MS);
  console.info(
    `crash test (seed ${SEED}): ${stats.kills} kills, ${stats.keysWritten} keys written; ` +
      `script:\n${journal.join('\n')}`,
  );

  for (const db of live()) {
    const row = rows.get(db.redisId);
    const expected = db.desired === 'running' ? 'done' : 'idle';
    if (row?.applicationStatus !== expected) {
      problem(`${db.appName} (${db.desired}) reports ${row?.applicationStatus}, not ${expected}`);
    }
    if (
      row?.deployRequests !== db.deployRequests ||
      row.restartRequests !== db.restartRequests ||
      row.rebuildRequests !== db.rebuildRequests
    ) {
      const stored = `${row?.deployRequests}/${row?.restartRequests}/${row?.rebuildRequests}`;
      const sent = `${db.deployRequests}/${db.restartRequests}/${db.rebuildRequests}`;
      problem(`${db.appName}: deploy/reload/rebuild counters ${stored}, sent ${sent}`);
    }
  }
  await checkEngine(rows);

  // Keys of stopped databases are read after starting them once more.
  for (const db of live()) {
    if (db.port === null || (db.keys.size === 0 && !db.wiped)) continue;
    if (db.desired === 'undeployed') continue;
    if (db.desired === 'stopped') {
      await child.post('/api/redis.start', { redisId: db.redisId });
      db.desired = 'running';
      await waitConverged(db);
    }
    if (db.wiped && (await keyCount(db)) !== 0) {
      problem(`${db.appName} holds keys after a create or rebuild`);
    }
    await verifyKeys(db, 'at the end');
  }

  console.info(`crash test (seed ${SEED}): ${stats.keysChecked} key reads checked`);
  const exit = await child.terminate(30_000);
  expect(exit?.code, 'the controller exits 0 on SIGTERM').toBe(0);
  const store = new Database(path.join(dataDir, DATABASE_FILE), { readonly: true });
  const stored = store.prepare('SELECT redisId FROM redis').pluck().all() as string[];
  store.close();
  expect(stored.sort(), 'rows left in the store').toEqual(
    live()
      .map((db) => db.redisId)
      .sort(),
  );

  expect(child.unexpectedExits, 'the controller never exited on its own').toEqual([]);
  expect(problems, `script:\n${journal.join('\n')}`).toEqual([]);
  passed = true;
}
