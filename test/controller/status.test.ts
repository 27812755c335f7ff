/**
 * What the status says at each point of a reconcile, as a kstatus reader sees it, over a real
 * SQLite store.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StatusReporter } from '../../src/controller/status.js';
import { OPTIONAL_SPEC_DEFAULTS, type RedisRecord } from '../../src/domain/redis.js';
import { type ObservedContainer, RuntimeError } from '../../src/runtime/types.js';
import { Store } from '../../src/store/store.js';

let dataDir: string;
let store: Store;
let clock: number;
let report: StatusReporter;

beforeEach(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rc-status-'));
  store = new Store({ dataDir });
  store.projects.seedDefaults();
  clock = Date.parse('2026-01-01T00:00:00Z');
  report = new StatusReporter({
    store,
    now: () => new Date(clock),
    publicHostOf: () => '127.0.0.1',
    fingerprint: () => 'fingerprint',
  });
});

afterEach(() => {
  store.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

function deployedRecord(): RedisRecord {
  const environmentId = store.projects.listProjects()[0]?.environments[0]?.environmentId ?? '';
  const { redisId } = store.redis.create({
    ...OPTIONAL_SPEC_DEFAULTS,
    name: 'cache',
    appName: 'status-cache',
    databasePassword: 'pw',
    dockerImage: 'redis:8',
    environmentId,
  });
  return store.redis.setDesiredState(redisId, 'running', { deploy: true });
}

const container: Omit<ObservedContainer, 'redisId'> = {
  id: 'c1',
  name: 'status-cache',
  state: 'running',
  specHash: null,
  generation: 1,
  startedAt: '2026-01-01T00:00:00Z',
  finishedAt: null,
  restartCount: 0,
  exitCode: 0,
  oomKilled: false,
};

function condition(redisId: string, type: string) {
  return store.redis.find(redisId).status.conditions.find((c) => c.type === type);
}

describe('status through a reconcile', () => {
  it('is not Ready while the container is replaced, and Ready again once it answers', () => {
    const record = deployedRecord();
    report.reportSuccess(record, 'running', { ...container, redisId: record.redisId }, true);
    expect(condition(record.redisId, 'Ready')).toMatchObject({ status: 'True' });
    const readySince = condition(record.redisId, 'Ready')?.lastTransitionTime;

    clock += 1000;
    const reloaded = store.redis.request(record.redisId, 'restart');
    expect(store.redis.find(record.redisId).status.observedGeneration).toBeLessThan(
      reloaded.generation,
    );
    report.reportProgress(reloaded, { readyLost: true });
    expect(condition(record.redisId, 'Ready')).toMatchObject({
      status: 'False',
      reason: 'Deploying',
    });
    expect(condition(record.redisId, 'Progressing')).toMatchObject({ status: 'True' });

    clock += 1000;
    report.reportSuccess(reloaded, 'running', { ...container, redisId: record.redisId }, true);
    const done = store.redis.find(record.redisId);
    expect(done.status.observedGeneration).toBe(reloaded.generation);
    expect(condition(record.redisId, 'Ready')).toMatchObject({ status: 'True' });
    expect(condition(record.redisId, 'Ready')?.lastTransitionTime).not.toBe(readySince);
    expect(condition(record.redisId, 'Progressing')).toMatchObject({ status: 'False' });
  });

  it('answers the generation with a terminal failure, but not with one worth retrying', () => {
    const record = deployedRecord();
    report.reportFailure(record, new RuntimeError('engine away'), { terminal: false });
    expect(store.redis.find(record.redisId).status.observedGeneration).toBeLessThan(
      record.generation,
    );
    report.reportFailure(record, new RuntimeError('port taken', { terminal: true }), {
      terminal: true,
    });
    const failed = store.redis.find(record.redisId);
    expect(failed.status.observedGeneration).toBe(record.generation);
    expect(condition(record.redisId, 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'TerminalError',
    });
  });

  it('stays Ready while the running container is kept, through the failure of its replacement', () => {
    const record = deployedRecord();
    report.reportSuccess(record, 'running', { ...container, redisId: record.redisId }, true);
    const updated = store.redis.update(record.redisId, { dockerImage: 'redis:does-not-exist' });

    clock += 1000;
    report.reportProgress(updated, { readyLost: false });
    expect(condition(record.redisId, 'Progressing')).toMatchObject({ status: 'True' });
    expect(condition(record.redisId, 'Ready')).toMatchObject({ status: 'True' });

    clock += 1000;
    const missing = new RuntimeError('image "redis:does-not-exist" was not found', {
      terminal: true,
    });
    report.reportFailure(updated, missing, { terminal: true, keptServing: true });
    expect(condition(record.redisId, 'Ready')).toMatchObject({ status: 'True' });
    expect(condition(record.redisId, 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'TerminalError',
      message:
        'image "redis:does-not-exist" was not found; the running container was left as it was',
    });
    expect(store.redis.find(record.redisId).applicationStatus).toBe('error');
  });

  it('says on every condition that a container that should run has stopped', () => {
    const record = deployedRecord();
    report.reportSuccess(record, 'running', { ...container, redisId: record.redisId }, true);
    const running = store.redis.find(record.redisId);
    report.reportNotRunning(running, { ...container, redisId: record.redisId, state: 'exited' });
    for (const type of ['Ready', 'Progressing', 'Degraded']) {
      expect(condition(record.redisId, type)).toMatchObject({
        reason: 'ContainerNotRunning',
        message: 'the container is exited (exit code 0)',
      });
    }
    expect(store.redis.find(record.redisId).status.lastError).toBe(
      'the container is exited (exit code 0)',
    );
  });
});
