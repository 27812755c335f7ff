import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OPTIONAL_SPEC_DEFAULTS, type RedisSpec } from '../../src/domain/redis.js';
import { DATABASE_FILE } from '../../src/store/database.js';
import { Store } from '../../src/store/store.js';

let dataDir: string;
let store: Store;

beforeEach(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rc-store-'));
  store = new Store({ dataDir });
  store.projects.seedDefaults();
});

afterEach(() => {
  store.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

function spec(overrides: Partial<RedisSpec> = {}): RedisSpec {
  const environmentId = store.projects.listProjects()[0]?.environments[0]?.environmentId ?? '';
  return {
    ...OPTIONAL_SPEC_DEFAULTS,
    name: 'cache',
    appName: `cache-${Math.random().toString(36).slice(2, 8)}`,
    databasePassword: 'pw',
    dockerImage: 'redis:8',
    environmentId,
    ...overrides,
  };
}

describe('Store', () => {
  it('seeds one default project with a production environment, once', () => {
    store.projects.seedDefaults();
    store.close();
    store = new Store({ dataDir });
    store.projects.seedDefaults();
    const projects = store.projects.listProjects();
    expect(projects).toHaveLength(1);
    expect(projects[0]).toMatchObject({ name: 'default' });
    expect(projects[0]?.environments.map((e) => e.name)).toEqual(['production']);
  });

  it('keeps records across a reopen of the file', () => {
    const created = store.redis.create(spec({ args: ['--maxmemory', '10mb'] }));
    store.close();
    store = new Store({ dataDir });
    expect(store.redis.find(created.redisId)).toMatchObject({
      appName: created.appName,
      args: ['--maxmemory', '10mb'],
      generation: 1,
    });
  });

  it('bumps the generation for runtime changes only, and signals them', () => {
    const created = store.redis.create(spec());
    const changed: string[] = [];
    store.onRedisChange((id) => changed.push(id));

    const renamed = store.redis.update(created.redisId, { name: 'renamed', description: 'd' });
    expect(renamed.generation).toBe(1);
    expect(changed).toEqual([]);

    const ported = store.redis.update(created.redisId, { externalPort: 12000 });
    expect(ported.generation).toBe(2);
    expect(changed).toEqual([created.redisId]);

    const same = store.redis.update(created.redisId, { externalPort: 12000 });
    expect(same.generation).toBe(2);
  });

  it('counts deploy, reload and rebuild requests', () => {
    const { redisId } = store.redis.create(spec());
    store.redis.setDesiredState(redisId, 'running', { deploy: true });
    store.redis.setDesiredState(redisId, 'running', { deploy: true });
    store.redis.request(redisId, 'restart');
    store.redis.request(redisId, 'rebuild');
    expect(store.redis.find(redisId)).toMatchObject({
      desiredState: 'running',
      deployRequests: 2,
      restartRequests: 1,
      rebuildRequests: 1,
    });
  });

  it('moves the generation on start, stop, deploy, reload and rebuild, not on a repeated state', () => {
    const { redisId } = store.redis.create(spec());
    const generation = () => store.redis.find(redisId).generation;
    store.redis.setDesiredState(redisId, 'running', { deploy: true });
    expect(generation()).toBe(2);
    store.redis.setDesiredState(redisId, 'running');
    expect(generation()).toBe(2);
    store.redis.setDesiredState(redisId, 'stopped');
    expect(generation()).toBe(3);
    store.redis.setDesiredState(redisId, 'running');
    expect(generation()).toBe(4);
    store.redis.request(redisId, 'restart');
    store.redis.request(redisId, 'rebuild');
    expect(generation()).toBe(6);
  });

  it('hides a record marked for deletion but keeps it for the reconciler', () => {
    const { redisId } = store.redis.create(spec());
    store.redis.markDeleted(redisId);
    expect(() => store.redis.find(redisId)).toThrow('Redis not found');
    expect(store.redis.findIncludingDeleted(redisId)?.deletionRequestedAt).not.toBeNull();
    expect(store.redis.listIds()).toContain(redisId);
    store.redis.purge(redisId);
    expect(store.redis.findIncludingDeleted(redisId)).toBeNull();
  });

  it('status writes never undo a spec change made meanwhile', () => {
    const created = store.redis.create(spec());
    store.redis.update(created.redisId, { dockerImage: 'redis:7' });
    store.redis.writeStatus(created.redisId, { ...created.status, phase: 'Running' }, 'done');
    expect(store.redis.find(created.redisId)).toMatchObject({
      dockerImage: 'redis:7',
      applicationStatus: 'done',
      status: { phase: 'Running' },
    });
  });

  it('stores API tokens hashed: the database file never holds the token', () => {
    const token = 'a-very-secret-token-value-123456';
    store.tokens.put('admin', token);
    expect(store.tokens.verify(token)).toBe(true);
    expect(store.tokens.verify(`${token}x`)).toBe(false);
    store.close();
    const bytes = fs.readFileSync(path.join(dataDir, DATABASE_FILE));
    expect(bytes.includes(Buffer.from(token))).toBe(false);
    store = new Store({ dataDir });
    expect(store.tokens.verify(token)).toBe(true);
  });

  it('refuses a database written by a newer schema', () => {
    store.db.pragma('user_version = 999');
    store.close();
    expect(() => new Store({ dataDir })).toThrow(/newer/);
    fs.rmSync(path.join(dataDir, DATABASE_FILE));
    store = new Store({ dataDir });
  });
});

describe('desired state', () => {
  it('leaves the status alone when the state asked for is the one already asked for', () => {
    const { redisId } = store.redis.create(spec());
    store.redis.setDesiredState(redisId, 'running', { applicationStatus: 'running' });
    store.redis.writeStatus(redisId, store.redis.find(redisId).status, 'done');
    const again = store.redis.setDesiredState(redisId, 'running', { applicationStatus: 'running' });
    expect(again.applicationStatus).toBe('done');
    const redeployed = store.redis.setDesiredState(redisId, 'running', {
      deploy: true,
      applicationStatus: 'running',
    });
    expect(redeployed.applicationStatus).toBe('running');
  });
});
