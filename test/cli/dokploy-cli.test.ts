/**
 * Dokploy's own command-line client (npm `@dokploy/cli` 0.30.7, unmodified) driving the whole
 * controller: its tRPC requests → SQLite → reconcile loop → real Redis containers on the
 * private test engine, checked over RESP and through the engine as a user would.
 *
 * The tests form one walkthrough and run in order: each starts from where the previous left
 * the database, as one user's session at a shell would.
 */
import fs from 'node:fs';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerFromHost } from '../../src/runtime/docker/client.js';
import {
  CONTROLLER_TOKEN,
  startTestController,
  type TestController,
  uniqueAppName,
} from '../support/controller.js';
import { type DokployCli, dokployCli, pollUntil } from '../support/dokploy-cli.js';
import { testEngine } from '../support/engine.js';
import { freePort, redisCommand } from '../support/resp.js';

interface EnvironmentView {
  environmentId: string;
  projectId: string;
  name: string;
  redis?: { redisId: string }[];
}

interface ProjectView {
  projectId: string;
  name: string;
  environments: EnvironmentView[];
}

/** What `redis search --json` prints. */
interface SearchResult {
  items: { redisId: string }[];
  total: number;
}

/** What `redis one --json` prints, as far as these tests read it. */
interface RedisView {
  redisId: string;
  name: string;
  appName: string;
  description: string | null;
  dockerImage: string;
  applicationStatus: string;
  environmentId: string;
  externalPort: number | null;
  memoryLimit: string | null;
  env: string | null;
  generation: number;
  restartRequests: number;
  rebuildRequests: number;
  environment: { environmentId: string; name: string; project: { projectId: string } };
  status: {
    phase: string;
    observedGeneration: number;
    appliedRestartRequests: number;
    appliedRebuildRequests: number;
  };
}

const MIB = 1024 ** 2;

let controller: TestController;
let cli: DokployCli;
let docker: Docker;

beforeAll(async () => {
  controller = await startTestController();
  cli = dokployCli(controller.client.baseUrl, CONTROLLER_TOKEN);
  docker = dockerFromHost(testEngine().dockerHost);
});

afterAll(async () => {
  cli?.close();
  await controller?.stop();
});

function redisOne(redisId: string): Promise<RedisView> {
  return cli.json<RedisView>('redis one', { redisId });
}

/** Polls `redis one --json`, as a user watching a deploy would, until `done` holds. */
function waitForRedis(
  what: string,
  redisId: string,
  done: (view: RedisView) => boolean,
): Promise<RedisView> {
  return pollUntil(what, () => redisOne(redisId), done);
}

/** The record has been carried out up to its current generation, and is up. */
async function waitForConvergence(what: string, redisId: string): Promise<RedisView> {
  const { generation } = await redisOne(redisId);
  return waitForRedis(
    what,
    redisId,
    (view) => view.status.observedGeneration >= generation && view.applicationStatus === 'done',
  );
}

async function containerExists(name: string): Promise<boolean> {
  const found = await docker.listContainers({ all: true, filters: { name: [`^/${name}$`] } });
  return found.length > 0;
}

async function volumeExists(name: string): Promise<boolean> {
  const { Volumes } = await docker.listVolumes({ filters: { name: [name] } });
  return (Volumes ?? []).some((volume) => volume.Name === name);
}

/** Whether the controller logged an answer with `status` to a request on `path`. */
function answered(path: string, status: number): boolean {
  return fs
    .readFileSync(controller.logFile, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { msg?: string; path?: string; status?: number })
    .some((entry) => entry.msg === 'request' && entry.path === path && entry.status === status);
}

function waitForAnswer(path: string, status: number): Promise<boolean> {
  return pollUntil(`an answer ${status} to ${path}`, async () => answered(path, status), Boolean);
}

describe('the Dokploy CLI, redis group, against the controller', () => {
  const suffix = uniqueAppName('cli').slice('cli-'.length);
  const appName = `cli-redis-${suffix}`;
  const redisName = `cli-cache-${suffix}`;
  const projectName = `cli-project-${suffix}`;
  let password = 'cli-Secret-pass-1!';
  let projectId = '';
  let productionId = '';
  let stagingId = '';
  let redisId = '';
  let port = 0;

  it('project all lists the default project with its production environment', async () => {
    const projects = await cli.json<ProjectView[]>('project all');

    const project = projects.find((candidate) => candidate.name === 'default');
    const production = project?.environments.find((env) => env.name === 'production');
    expect(production?.environmentId).toBe(controller.environmentId);
  });

  it('project create makes a project with production; environment create adds one', async () => {
    const created = await cli.json<{ project: ProjectView; environment: EnvironmentView }>(
      'project create',
      { name: projectName, description: 'Made by the Dokploy CLI' },
    );
    expect(created.project.name).toBe(projectName);
    expect(created.environment).toMatchObject({
      name: 'production',
      projectId: created.project.projectId,
    });
    projectId = created.project.projectId;
    productionId = created.environment.environmentId;

    const staging = await cli.json<EnvironmentView>('environment create', {
      name: 'staging',
      projectId,
    });
    expect(staging).toMatchObject({ name: 'staging', projectId });
    stagingId = staging.environmentId;

    const projects = await cli.json<ProjectView[]>('project all');
    const listed = projects.find((project) => project.projectId === projectId);
    expect(listed?.environments.map((env) => env.name).sort()).toEqual(['production', 'staging']);
  });

  it('redis create files an idle database, and redis one shows it in its environment', async () => {
    const created = await cli.json<RedisView>('redis create', {
      name: redisName,
      appName,
      databasePassword: password,
      dockerImage: testEngine().redisImage,
      environmentId: productionId,
      description: 'Cache for the CLI walkthrough',
    });
    expect(created).toMatchObject({
      name: redisName,
      appName,
      dockerImage: testEngine().redisImage,
      environmentId: productionId,
      applicationStatus: 'idle',
    });
    redisId = created.redisId;

    const view = await redisOne(redisId);
    expect(view).toMatchObject({ redisId, appName, description: 'Cache for the CLI walkthrough' });
    expect(view.environment).toMatchObject({
      environmentId: productionId,
      name: 'production',
      project: { projectId },
    });
    expect(await containerExists(appName)).toBe(false);
  });

  it('redis save-external-port records the port the database will be published on', async () => {
    port = await freePort();

    const result = await cli.run('redis save-external-port', { redisId, externalPort: port });
    expect(result.exitCode).toBe(0);

    expect((await redisOne(redisId)).externalPort).toBe(port);
  });

  it('redis deploy brings Redis up: done, PONG with the password, NOAUTH without', async () => {
    const result = await cli.run('redis deploy', { redisId });
    expect(result.exitCode).toBe(0);

    const view = await waitForRedis('deploy', redisId, (v) => v.applicationStatus === 'done');
    expect(view.status.phase).toBe('Running');
    expect(await redisCommand(port, password, 'PING')).toBe('PONG');
    expect(String(await redisCommand(port, null, 'PING'))).toMatch(/NOAUTH/);
  });

  it('a key written before redis stop is still there after redis start', async () => {
    expect(await redisCommand(port, password, 'SET', 'greeting', 'hello')).toBe('OK');

    expect((await cli.run('redis stop', { redisId })).exitCode).toBe(0);
    const stopped = await waitForRedis('stop', redisId, (v) => v.status.phase === 'Stopped');
    expect(stopped.applicationStatus).toBe('idle');
    expect((await docker.getContainer(appName).inspect()).State.Running).toBe(false);

    expect((await cli.run('redis start', { redisId })).exitCode).toBe(0);
    await waitForRedis(
      'start',
      redisId,
      (v) => v.status.phase === 'Running' && v.applicationStatus === 'done',
    );
    expect(await redisCommand(port, password, 'GET', 'greeting')).toBe('hello');
  });

  it('redis reload restarts the same container; another appName is refused', async () => {
    const refused = await cli.run('redis reload', { redisId, appName: 'some-other-app' });
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toContain('400');

    const before = await docker.getContainer(appName).inspect();
    const reloaded = await cli.run('redis reload', { redisId, appName });
    expect(reloaded.exitCode).toBe(0);

    const { restartRequests } = await redisOne(redisId);
    await waitForRedis(
      'reload',
      redisId,
      (v) => v.status.appliedRestartRequests >= restartRequests && v.applicationStatus === 'done',
    );
    const after = await docker.getContainer(appName).inspect();
    expect(after.Id).toBe(before.Id);
    expect(after.State.StartedAt).not.toBe(before.State.StartedAt);
    expect(await redisCommand(port, password, 'PING')).toBe('PONG');
  });

  it('redis update --memoryLimit 256m limits the container to 256 MiB', async () => {
    const result = await cli.run('redis update', { redisId, memoryLimit: '256m' });
    expect(result.exitCode).toBe(0);

    const view = await waitForConvergence('memory limit', redisId);
    expect(view.memoryLimit).toBe('256m');
    const inspect = await docker.getContainer(appName).inspect();
    expect(inspect.HostConfig.Memory).toBe(256 * MIB);
    expect(await redisCommand(port, password, 'PING')).toBe('PONG');
  });

  it('redis update --description alone leaves the container as it was', async () => {
    const before = await docker.getContainer(appName).inspect();
    const { generation } = await redisOne(redisId);

    const result = await cli.run('redis update', { redisId, description: 'Renamed by the CLI' });
    expect(result.exitCode).toBe(0);
    await controller.running.controller.whenIdle();

    const view = await redisOne(redisId);
    expect(view.description).toBe('Renamed by the CLI');
    expect(view.generation).toBe(generation);
    const after = await docker.getContainer(appName).inspect();
    expect(after.Id).toBe(before.Id);
    expect(after.State.StartedAt).toBe(before.State.StartedAt);
  });

  it('redis save-environment passes the variables to the container', async () => {
    const result = await cli.run('redis save-environment', { redisId, env: 'FOO=bar' });
    expect(result.exitCode).toBe(0);

    const view = await waitForConvergence('environment', redisId);
    expect(view.env).toBe('FOO=bar');
    const inspect = await docker.getContainer(appName).inspect();
    expect(inspect.Config.Env).toContain('FOO=bar');
    expect(await redisCommand(port, password, 'PING')).toBe('PONG');
  });

  it('redis change-status changes the status shown, and only that', async () => {
    const before = await docker.getContainer(appName).inspect();

    const changed = await cli.run('redis change-status', { redisId, applicationStatus: 'idle' });
    expect(changed.exitCode).toBe(0);
    expect((await redisOne(redisId)).applicationStatus).toBe('idle');
    await controller.running.controller.whenIdle();
    const after = await docker.getContainer(appName).inspect();
    expect(after.Id).toBe(before.Id);
    expect(after.State.StartedAt).toBe(before.State.StartedAt);
    expect(await redisCommand(port, password, 'PING')).toBe('PONG');

    const restored = await cli.run('redis change-status', { redisId, applicationStatus: 'done' });
    expect(restored.exitCode).toBe(0);
    expect((await redisOne(redisId)).applicationStatus).toBe('done');
  });

  it('redis change-password: the new password works and the old one is refused', async () => {
    const oldPassword = password;
    password = 'cli-Changed-pass-2?';

    const result = await cli.run('redis change-password', { redisId, password });
    expect(result.exitCode).toBe(0);

    await waitForConvergence('password change', redisId);
    expect(await redisCommand(port, password, 'PING')).toBe('PONG');
    expect(String(await redisCommand(port, oldPassword, 'PING'))).toMatch(/WRONGPASS|invalid/i);
    expect(await redisCommand(port, password, 'GET', 'greeting')).toBe('hello');
  });

  it('redis move refiles the database; an unknown environment is a 404', async () => {
    const refused = await cli.run('redis move', {
      redisId,
      targetEnvironmentId: 'no-such-environment',
    });
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toContain('404');
    expect(await waitForAnswer('/api/trpc/redis.move', 404)).toBe(true);
    expect((await redisOne(redisId)).environmentId).toBe(productionId);

    const moved = await cli.json<RedisView>('redis move', {
      redisId,
      targetEnvironmentId: stagingId,
    });
    expect(moved.environmentId).toBe(stagingId);

    const view = await redisOne(redisId);
    expect(view.environment).toMatchObject({ environmentId: stagingId, name: 'staging' });
    const staging = await cli.json<EnvironmentView>('environment one', {
      environmentId: stagingId,
    });
    expect(staging.redis?.map((item) => item.redisId)).toEqual([redisId]);
    expect(await redisCommand(port, password, 'PING')).toBe('PONG');
  });

  it('redis search --q finds the database by part of its name', async () => {
    const found = await cli.json<SearchResult>('redis search', { q: `cache-${suffix}` });
    expect(found.items.map((item) => item.redisId)).toEqual([redisId]);
    expect(found.total).toBe(1);

    const none = await cli.json<SearchResult>('redis search', { q: `absent-${suffix}` });
    expect(none).toEqual({ items: [], total: 0 });
  });

  it('redis read-logs --tail 20 prints at most the last 20 lines of the Redis log', async () => {
    const text = await cli.json<string>('redis read-logs', { redisId, tail: 20 });

    const lines = text.split('\n').filter((line) => line.trim() !== '');
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.length).toBeLessThanOrEqual(20);
    expect(text).toMatch(/Ready to accept connections/);
  });

  it('redis rebuild starts the database over from an empty volume', async () => {
    expect(await redisCommand(port, password, 'SET', 'doomed', 'yes')).toBe('OK');

    const result = await cli.run('redis rebuild', { redisId });
    expect(result.exitCode).toBe(0);

    const { rebuildRequests } = await redisOne(redisId);
    await waitForRedis(
      'rebuild',
      redisId,
      (v) => v.status.appliedRebuildRequests >= rebuildRequests && v.applicationStatus === 'done',
    );
    expect(await redisCommand(port, password, 'GET', 'doomed')).toBeNull();
    expect(await redisCommand(port, password, 'GET', 'greeting')).toBeNull();
  });

  it('environment and project remove are refused with 409 while they hold it', async () => {
    const environment = await cli.run('environment remove', { environmentId: stagingId });
    expect(environment.exitCode).not.toBe(0);
    expect(environment.stderr).toContain('409');
    expect(await waitForAnswer('/api/trpc/environment.remove', 409)).toBe(true);

    const project = await cli.run('project remove', { projectId });
    expect(project.exitCode).not.toBe(0);
    expect(project.stderr).toContain('409');
    expect(await waitForAnswer('/api/trpc/project.remove', 409)).toBe(true);

    const projects = await cli.json<ProjectView[]>('project all');
    const listed = projects.find((candidate) => candidate.projectId === projectId);
    expect(listed?.environments.map((env) => env.environmentId).sort()).toEqual(
      [productionId, stagingId].sort(),
    );
    expect(await redisCommand(port, password, 'PING')).toBe('PONG');
  });

  it('redis remove deletes the container and its volume, and the database is gone', async () => {
    const result = await cli.run('redis remove', { redisId });
    expect(result.exitCode).toBe(0);

    await pollUntil(
      'container and volume removal',
      async () => (await containerExists(appName)) || (await volumeExists(`${appName}-data`)),
      (present) => !present,
    );
    await controller.running.controller.whenIdle();
    const one = await cli.run('redis one', { redisId });
    expect(one.exitCode).not.toBe(0);
    expect(one.stderr).toContain('404');
  });

  it('environment and project remove succeed once they are empty', async () => {
    const environment = await cli.json<EnvironmentView>('environment remove', {
      environmentId: stagingId,
    });
    expect(environment.environmentId).toBe(stagingId);

    const project = await cli.json<ProjectView>('project remove', { projectId });
    expect(project.projectId).toBe(projectId);

    const projects = await cli.json<ProjectView[]>('project all');
    expect(projects.some((candidate) => candidate.projectId === projectId)).toBe(false);
  });
});
