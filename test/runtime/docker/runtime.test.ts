/**
 * DockerRuntime against the private test engine: real containers, a real volume, Redis reached
 * over its published port. Every object gets a unique name and is removed after its test.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DockerRuntime } from '../../../src/runtime/docker/runtime.js';
import { CONFIG_PATH, renderRedisConfig } from '../../../src/runtime/redis-config.js';
import {
  type InstanceSpec,
  LABELS,
  MANAGED_BY_VALUE,
  RuntimeError,
} from '../../../src/runtime/types.js';
import { testEngine } from '../../support/engine.js';
import { freePort, RespClient } from '../../support/resp.js';

/** Quotes, a space, `$`, `;` and `@`: whatever a shell or a naive quoting would mangle. */
const PASSWORD = `s3cr et$;'"@`;
const CONFIG_TEXT = `requirepass "s3cr et$;'\\"@"\nappendonly yes\ndir /data\n`;
/** A fragment of the password that JSON escaping leaves intact, to search serialized output. */
const PASSWORD_FRAGMENT = 's3cr et';

/** How long Redis may take to answer its first PING after start. */
const READY_TIMEOUT_MS = 20_000;

const ownerId = `test-owner-${randomBytes(4).toString('hex')}`;
let runtime: DockerRuntime;
let docker: Docker;

/** Names of the containers and volumes each test made, removed after it. */
const containers = new Set<string>();
const volumes = new Set<string>();

beforeAll(() => {
  runtime = new DockerRuntime({ dockerHost: testEngine().dockerHost, ownerId });
  docker = runtime.docker;
});

/** Removes what the tests made; each name is forgotten only once it is gone. */
async function cleanUp(): Promise<void> {
  // Containers first: a volume in use cannot be removed.
  for (const name of containers) {
    await runtime.removeContainer(name);
    containers.delete(name);
  }
  for (const name of volumes) {
    await runtime.removeVolume(name);
    volumes.delete(name);
  }
}

afterEach(cleanUp);
// A second chance for whatever a failing afterEach left behind.
afterAll(cleanUp);

function instanceSpec(overrides: Partial<InstanceSpec> = {}): InstanceSpec {
  const appName = `rt-${randomBytes(5).toString('hex')}`;
  const spec: InstanceSpec = {
    redisId: `redis-${appName}`,
    appName,
    volumeName: `${appName}-data`,
    image: testEngine().redisImage,
    configText: CONFIG_TEXT,
    cmd: ['redis-server', CONFIG_PATH],
    env: ['TZ=UTC'],
    memoryLimitBytes: null,
    memoryReservationBytes: null,
    nanoCpus: null,
    cpuShares: null,
    externalPort: null,
    publishHost: '127.0.0.1',
    specHash: 'spec-hash-1',
    generation: 1,
    stopTimeoutSeconds: 10,
    ...overrides,
  };
  containers.add(spec.appName);
  volumes.add(spec.volumeName);
  return spec;
}

/** Creates the volume and the container, as the reconciler does; returns the container id. */
async function create(spec: InstanceSpec): Promise<string> {
  await runtime.createVolume(spec.volumeName, spec.redisId, spec.appName);
  return runtime.createContainer(spec);
}

async function waitForPing(id: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const result = await runtime.ping(id, PASSWORD);
    if (result.ok) return;
    if (Date.now() > deadline) throw new Error(`Redis never answered PING: ${result.output}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function rejection(promise: Promise<unknown>): Promise<RuntimeError> {
  const error = await promise.then(
    () => null,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(RuntimeError);
  return error as RuntimeError;
}

/** `tar --list --verbose` of a path inside the container, as the engine's archive reports it. */
async function listInContainer(id: string, path: string): Promise<string> {
  const archive = (await docker.getContainer(id).getArchive({ path })) as Readable;
  return new Promise((resolve, reject) => {
    const child = execFile('tar', ['--list', '--verbose', '--numeric-owner'], (error, stdout) =>
      error ? reject(error) : resolve(stdout),
    );
    if (!child.stdin) throw new Error('tar has no stdin');
    archive.pipe(child.stdin);
  });
}

describe('a Redis container made from an InstanceSpec', () => {
  it('serves Redis on its published port, behind the password in the config file', async () => {
    const port = await freePort();
    const spec = instanceSpec({ externalPort: port });
    const id = await create(spec);
    await runtime.startContainer(id);
    await waitForPing(id);

    expect(await runtime.ping(id, PASSWORD)).toEqual({ ok: true, output: 'PONG' });
    const wrong = await runtime.ping(id, 'not-the-password');
    expect(wrong.ok).toBe(false);
    expect(wrong.output).not.toContain('not-the-password');

    const client = await RespClient.connect(port);
    try {
      const unauthenticated = await client.command('PING');
      expect(unauthenticated).toBeInstanceOf(Error);
      expect((unauthenticated as Error).message).toMatch(/^NOAUTH/);
      expect(await client.command('AUTH', PASSWORD)).toBe('OK');
      expect(await client.command('PING')).toBe('PONG');
      expect(await client.command('CONFIG', 'GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    } finally {
      client.close();
    }
  });

  it('keeps the password out of everything the engine reports about the container', async () => {
    const spec = instanceSpec();
    const id = await create(spec);
    const info = await docker.getContainer(id).inspect();

    expect(info.Config.Cmd).toEqual(spec.cmd);
    expect(info.Config.Env).toContain('TZ=UTC');
    expect(JSON.stringify(info)).not.toContain(PASSWORD_FRAGMENT);
    expect(JSON.stringify(info.Args)).not.toContain(PASSWORD_FRAGMENT);
    expect(info.Config.Labels).toMatchObject({
      [LABELS.managedBy]: MANAGED_BY_VALUE,
      [LABELS.owner]: ownerId,
      [LABELS.redisId]: spec.redisId,
      [LABELS.appName]: spec.appName,
      [LABELS.specHash]: spec.specHash,
      [LABELS.generation]: '1',
    });
  });

  it('keeps the entrypoint; sets restart policy, stop timeout, log rotation, /data', async () => {
    const spec = instanceSpec({ stopTimeoutSeconds: 17 });
    const id = await create(spec);
    const info = await docker.getContainer(id).inspect();
    const config = info.Config as Docker.ContainerInspectInfo['Config'] & { StopTimeout?: number };

    expect(config.Entrypoint ?? null).toBeNull();
    expect(config.StopTimeout).toBe(17);
    expect(info.HostConfig.RestartPolicy?.Name).toBe('unless-stopped');
    expect(info.HostConfig.LogConfig).toEqual({
      Type: 'json-file',
      Config: { 'max-size': '10m', 'max-file': '3' },
    });
    expect(info.Mounts).toEqual([
      expect.objectContaining({ Type: 'volume', Name: spec.volumeName, Destination: '/data' }),
    ]);
    expect(info.HostConfig.PortBindings ?? {}).toEqual({});

    const volume = await docker.getVolume(spec.volumeName).inspect();
    expect(volume.Labels).toMatchObject({
      [LABELS.managedBy]: MANAGED_BY_VALUE,
      [LABELS.redisId]: spec.redisId,
      [LABELS.appName]: spec.appName,
    });
  });

  it('writes the config file 0644 in a 0755 directory before the first start', async () => {
    const id = await create(instanceSpec());
    const listing = await listInContainer(id, '/etc/redis-controller');
    const [directory, file] = listing.trim().split('\n');

    expect(directory).toMatch(/^drwxr-xr-x 0\/0 .* redis-controller\/$/);
    expect(file).toMatch(
      new RegExp(
        `^-rw-r--r-- 0/0\\s+${Buffer.byteLength(CONFIG_TEXT)} .* redis-controller/redis.conf$`,
      ),
    );
  });

  it('shows memory and cpu limits in the engine and in the observed container', async () => {
    const spec = instanceSpec({
      memoryLimitBytes: 64 * 1024 * 1024,
      memoryReservationBytes: 32 * 1024 * 1024,
      nanoCpus: 500_000_000,
      cpuShares: 512,
      externalPort: await freePort(),
    });
    const id = await create(spec);
    const host = (await docker.getContainer(id).inspect()).HostConfig;

    expect(host.Memory).toBe(64 * 1024 * 1024);
    expect(host.MemoryReservation).toBe(32 * 1024 * 1024);
    expect(host.NanoCpus).toBe(500_000_000);
    expect(host.CpuShares).toBe(512);

    const observed = await runtime.findContainer(spec.appName);
    expect(observed?.actual).toEqual({
      image: spec.image,
      cmd: spec.cmd,
      env: expect.arrayContaining(['TZ=UTC']),
      published: `127.0.0.1:${spec.externalPort}`,
      memoryBytes: 64 * 1024 * 1024,
      memoryReservationBytes: 32 * 1024 * 1024,
      nanoCpus: 500_000_000,
      cpuShares: 512,
    });
  });

  it('goes through stop, start, stop again and removal, each repeat being harmless', async () => {
    const spec = instanceSpec();
    expect(await runtime.findContainer(spec.appName)).toBeNull();

    const id = await create(spec);
    const created = await runtime.findContainer(spec.appName);
    expect(created).toMatchObject({
      id,
      name: spec.appName,
      state: 'created',
      redisId: spec.redisId,
      specHash: spec.specHash,
      generation: spec.generation,
      startedAt: null,
      finishedAt: null,
    });

    await runtime.startContainer(id);
    await runtime.startContainer(id);
    await waitForPing(id);
    const running = await runtime.findContainer(spec.appName);
    expect(running?.state).toBe('running');
    expect(running?.startedAt).not.toBeNull();
    expect((await runtime.listManagedContainers()).map((c) => c.name)).toContain(spec.appName);

    await runtime.stopContainer(id, spec.stopTimeoutSeconds);
    const stopped = await runtime.findContainer(spec.appName);
    // Redis exits 0 on SIGTERM after saving; 137 would mean the stop timeout ran out.
    expect(stopped).toMatchObject({ state: 'exited', exitCode: 0, oomKilled: false });
    expect(stopped?.finishedAt).not.toBeNull();

    await runtime.startContainer(id);
    await waitForPing(id);
    await runtime.stopContainer(id, spec.stopTimeoutSeconds);
    await runtime.stopContainer(id, spec.stopTimeoutSeconds);

    await runtime.removeContainer(id);
    await runtime.removeContainer(id);
    expect(await runtime.findContainer(spec.appName)).toBeNull();

    expect(await runtime.volumeExists(spec.volumeName, spec.redisId)).toBe(true);
    await runtime.removeVolume(spec.volumeName);
    await runtime.removeVolume(spec.volumeName);
    expect(await runtime.volumeExists(spec.volumeName, spec.redisId)).toBe(false);
  });

  it("returns the container's log, stdout and stderr, demultiplexed", async () => {
    const id = await create(instanceSpec());
    await runtime.startContainer(id);
    await waitForPing(id);

    const log = await runtime.logs(id, 100);
    expect(log).toContain('Ready to accept connections');
    // Every 8-byte frame header holds three zero bytes; none may leak into the text.
    expect(log.includes('\0')).toBe(false);
  });

  it('replaces the config file of a running container, which Redis reads on restart', async () => {
    const spec = instanceSpec();
    const id = await create(spec);
    await runtime.startContainer(id);
    await waitForPing(id);

    await runtime.writeConfig(id, 'requirepass "another one"\n');
    await runtime.restartContainer(id, spec.stopTimeoutSeconds);

    const deadline = Date.now() + READY_TIMEOUT_MS;
    let result = await runtime.ping(id, 'another one');
    while (!result.ok && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      result = await runtime.ping(id, 'another one');
    }
    expect(result.ok).toBe(true);
    expect((await runtime.ping(id, PASSWORD)).ok).toBe(false);
  });
});

describe('changes made while running', () => {
  it('changes the password in place through the operator user, without a restart', async () => {
    const operator = { user: 'rc-operator', password: 'operator pw "1"' };
    const configText = renderRedisConfig({
      password: PASSWORD,
      maxmemoryBytes: null,
      persistenceDefaults: true,
      operator,
    });
    const id = await create(instanceSpec({ configText }));
    await runtime.startContainer(id);
    await waitForPing(id);
    const startedAt = (await docker.getContainer(id).inspect()).State.StartedAt;

    const newPassword = `n3w $(pw) 'x' "y"`;
    await runtime.setPassword(id, operator, newPassword);

    expect((await runtime.ping(id, newPassword)).ok).toBe(true);
    expect((await runtime.ping(id, PASSWORD)).ok).toBe(false);
    expect((await docker.getContainer(id).inspect()).State.StartedAt).toBe(startedAt);
  });

  it('reports changes to its own containers on the watch feed', async () => {
    const changes: Array<[string, string]> = [];
    let resynced = false;
    const stop = runtime.watch({
      onChange: (redisId, action) => changes.push([redisId, action]),
      onResync: () => {
        resynced = true;
      },
      onDisconnect: () => {},
    });
    try {
      await vi.waitFor(() => expect(resynced).toBe(true));
      const spec = instanceSpec();
      const id = await create(spec);
      await runtime.startContainer(id);

      await vi.waitFor(() => {
        expect(changes).toContainEqual([spec.redisId, 'create']);
        expect(changes).toContainEqual([spec.redisId, 'start']);
      });
    } finally {
      stop();
    }
  });
});

describe('engine answers that are failures', () => {
  it('names the image when a pull fails', async () => {
    const image = 'does-not-exist.invalid/nope:1';
    const error = await rejection(runtime.pullImage(image));
    expect(error.message).toContain(`image "${image}" could not be pulled`);
  });

  it('treats a malformed image reference as terminal', async () => {
    const error = await rejection(runtime.pullImage('Not/A-Valid:Reference'));
    expect(error.message).toContain('image "Not/A-Valid:Reference"');
    expect(error.terminal).toBe(true);
  });

  it('tells whether an image is present', async () => {
    expect(await runtime.imagePresent(testEngine().redisImage)).toBe(true);
    expect(await runtime.imagePresent('redis-controller/absent:never')).toBe(false);
  });

  it('says a host port is taken when another container publishes it', async () => {
    const port = await freePort();
    const first = await create(instanceSpec({ externalPort: port }));
    await runtime.startContainer(first);
    const second = await create(instanceSpec({ externalPort: port }));

    const error = await rejection(runtime.startContainer(second));
    expect(error.message).toMatch(`host port 127.0.0.1:${port} is already taken`);
    expect(error.terminal).toBe(true);
  });

  it('says a host port is taken when a program on the host listens on it', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const id = await create(instanceSpec({ externalPort: port }));
      const error = await rejection(runtime.startContainer(id));
      expect(error.message).toMatch(`host port 127.0.0.1:${port} is already taken`);
      expect(error.terminal).toBe(true);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('names the container when its name is already used', async () => {
    const spec = instanceSpec();
    await create(spec);
    const error = await rejection(runtime.createContainer(spec));
    expect(error.message).toContain(`"${spec.appName}"`);
  });

  it('refuses a same-named container it does not manage', async () => {
    const spec = instanceSpec();
    await docker.createContainer({ name: spec.appName, Image: spec.image });

    const error = await rejection(runtime.findContainer(spec.appName));
    expect(error.message).toBe(
      `a container named "${spec.appName}" exists and is not managed by redis-controller; ` +
        'rename or remove it, or choose another appName',
    );
    expect(error.terminal).toBe(true);
  });

  it("refuses another controller's container and leaves it out of the managed list", async () => {
    const spec = instanceSpec();
    const other = new DockerRuntime({ dockerHost: testEngine().dockerHost, ownerId: 'other' });
    await other.createVolume(spec.volumeName, spec.redisId, spec.appName);
    await other.createContainer(spec);

    const error = await rejection(runtime.findContainer(spec.appName));
    expect(error.terminal).toBe(true);
    expect((await runtime.listManagedContainers()).map((c) => c.name)).not.toContain(spec.appName);
    const volume = runtime.volumeExists(spec.volumeName, spec.redisId);
    await expect(volume).rejects.toThrow(/another redis-controller or database/);
  });

  it('refuses to remove a volume a container still uses', async () => {
    const spec = instanceSpec();
    await create(spec);
    const error = await rejection(runtime.removeVolume(spec.volumeName));
    expect(error.message).toContain(`volume "${spec.volumeName}"`);
    expect(error.message).toMatch(/in use/);
  });

  it('answers a PING to a container that is not running with ok false', async () => {
    const id = await create(instanceSpec());
    const result = await runtime.ping(id, PASSWORD);
    expect(result.ok).toBe(false);
    expect(result.output).not.toContain(PASSWORD_FRAGMENT);
  });
});
