/**
 * What the reconciler does around a shutdown and an engine that cannot be reached, over a real
 * SQLite store. The engines are stand-ins that record each call: these are orderings a real
 * engine cannot be made to show on cue (a create still in flight when SIGTERM comes).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Reconciler } from '../../src/controller/reconciler.js';
import { OPTIONAL_SPEC_DEFAULTS } from '../../src/domain/redis.js';
import { type ObservedContainer, type Runtime, RuntimeError } from '../../src/runtime/types.js';
import { Store } from '../../src/store/store.js';

let dataDir: string;
let store: Store;

beforeEach(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rc-reconciler-'));
  store = new Store({ dataDir });
  store.projects.seedDefaults();
});

afterEach(() => {
  store.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** An engine with no containers, no volumes and the image present; `calls` names each call. */
function fakeEngine(overrides: Partial<Runtime> = {}): { runtime: Runtime; calls: string[] } {
  const calls: string[] = [];
  const base: Partial<Runtime> = {
    findContainer: async () => null,
    listManagedContainers: async () => [],
    volumeExists: async () => false,
    checkSettings: async () => {},
    imagePresent: async () => true,
    createVolume: async () => {},
    createContainer: async () => 'c1',
    startContainer: async () => {},
    removeContainer: async () => {},
    ping: async () => ({ ok: true, output: 'PONG' }),
    ...overrides,
  };
  const runtime = new Proxy(base, {
    get(target, name: string) {
      const method = target[name as keyof Runtime] as ((...args: unknown[]) => unknown) | undefined;
      if (!method) throw new Error(`the fake engine has no ${name}`);
      return (...args: unknown[]) => {
        calls.push(name);
        return method(...args);
      };
    },
  }) as Runtime;
  return { runtime, calls };
}

function reconcilerOn(runtimes: Runtime[]): Reconciler {
  const [local] = runtimes;
  if (!local) throw new Error('no engine');
  return new Reconciler({
    store,
    runtimes: { for: () => local, all: () => runtimes },
    logger: pino({ level: 'silent' }),
    publishHost: '127.0.0.1',
    stopTimeoutSeconds: 1,
    readyTimeoutMs: 1000,
  });
}

function deployedRecordId(): string {
  const environmentId = store.projects.listProjects()[0]?.environments[0]?.environmentId ?? '';
  const { redisId } = store.redis.create({
    ...OPTIONAL_SPEC_DEFAULTS,
    name: 'cache',
    appName: 'reconciler-cache',
    databasePassword: 'pw',
    dockerImage: 'redis:8',
    environmentId,
  });
  store.redis.setDesiredState(redisId, 'running', { deploy: true });
  return redisId;
}

describe('a reconcile during shutdown', () => {
  it('finishes the step in flight and begins no other', async () => {
    const shutdown = new AbortController();
    const { runtime, calls } = fakeEngine({
      createContainer: async () => {
        // SIGTERM arrives while the engine is creating the container.
        shutdown.abort();
        return 'c1';
      },
    });
    const redisId = deployedRecordId();

    const result = await reconcilerOn([runtime]).reconcile(redisId, shutdown.signal);

    expect(calls).toContain('createContainer');
    expect(calls.slice(calls.indexOf('createContainer') + 1)).toEqual([]);
    expect(result).toEqual({ requeueAfterMs: 0 });
  });
});

describe('collecting the containers of a removed record', () => {
  it('skips an engine that cannot be reached and collects on the others', async () => {
    const away = fakeEngine({
      listManagedContainers: async () => {
        throw new RuntimeError('listing containers failed: connect ENOENT');
      },
    });
    const orphan = { id: 'orphan-1', redisId: 'gone-record' } as ObservedContainer;
    const reachable = fakeEngine({ listManagedContainers: async () => [orphan] });

    await reconcilerOn([away.runtime, reachable.runtime]).reconcile('gone-record');

    expect(reachable.calls).toEqual(['listManagedContainers', 'removeContainer']);
  });
});
