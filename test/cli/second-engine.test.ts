/**
 * The second private engine: a daemon of its own beside the first, on a bridge of its own, whose
 * containers serve on 127.0.0.1 and stay invisible to the first engine, and the reverse.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type Docker from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_BRIDGE,
  type DockerdSettings,
  dockerdSettings,
  enginePaths,
  pingEngine,
  runningDockerds,
  sharedWith,
} from '../../src/cli/engine.js';
import { dockerFromHost } from '../../src/runtime/docker/client.js';
import { secondEngine, testEngine } from '../support/engine.js';
import { freePort, redisCommand } from '../support/resp.js';

const execFileAsync = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const first = testEngine();
const second = secondEngine();
const firstDocker = dockerFromHost(first.dockerHost);
const secondDocker = dockerFromHost(second.dockerHost);

/** Containers this file creates, by engine, removed at the end whatever the outcome. */
const created: Array<{ docker: Docker; name: string }> = [];

function containerName(purpose: string): string {
  return `redis-controller-second-engine-test-${purpose}-${process.pid}`;
}

function socketOf(dockerHost: string): string {
  return dockerHost.replace(/^unix:\/\//, '');
}

function statusCode(error: unknown): number | undefined {
  return (error as { statusCode?: number }).statusCode;
}

/** The bridge name and address of an engine's default network, as GET /networks/bridge says. */
async function bridgeOf(docker: Docker): Promise<{ name: string; cidr: string }> {
  const network = (await docker.getNetwork('bridge').inspect()) as {
    Options: Record<string, string>;
    IPAM: { Config: Array<{ Subnet: string; Gateway: string }> };
  };
  const config = network.IPAM.Config[0];
  return {
    name: network.Options['com.docker.network.bridge.name'] ?? DEFAULT_BRIDGE,
    cidr: `${config?.Gateway}/${config?.Subnet.split('/')[1]}`,
  };
}

async function createContainer(
  docker: Docker,
  purpose: string,
  hostPort?: number,
): Promise<Docker.Container> {
  const name = containerName(purpose);
  created.push({ docker, name });
  const portBindings =
    hostPort === undefined
      ? {}
      : { '6379/tcp': [{ HostIp: '127.0.0.1', HostPort: String(hostPort) }] };
  return docker.createContainer({
    name,
    Image: second.redisImage,
    // Protected mode would refuse the proxied connection, which arrives from the bridge address.
    Cmd: ['redis-server', '--protected-mode', 'no', '--save', ''],
    ExposedPorts: { '6379/tcp': {} },
    HostConfig: { PortBindings: portBindings },
  });
}

async function isListed(docker: Docker, name: string): Promise<boolean> {
  const found = await docker.listContainers({ all: true, filters: { name: [`^/${name}$`] } });
  return found.length > 0;
}

async function eventually<T>(attempt: () => Promise<T>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

afterAll(async () => {
  for (const { docker, name } of created) {
    try {
      await docker.getContainer(name).remove({ force: true });
    } catch (error) {
      // A test that failed before its container was created leaves nothing to remove.
      if (statusCode(error) !== 404) throw error;
    }
  }
});

describe('the second engine', () => {
  it('answers /_ping beside the first', async () => {
    expect(second.dockerHost).toMatch(/^unix:\/\/\/.+\/docker\.sock$/);
    expect(second.dockerHost).not.toBe(first.dockerHost);

    expect(await pingEngine(socketOf(first.dockerHost))).toBe(true);
    expect(await pingEngine(socketOf(second.dockerHost))).toBe(true);
  });

  it('is another daemon, with its own /info ID and data root', async () => {
    const [one, two] = await Promise.all([firstDocker.info(), secondDocker.info()]);

    expect(two.ID).toBeTruthy();
    expect(two.ID).not.toBe(one.ID);
    expect(two.DockerRootDir).not.toBe(one.DockerRootDir);
  });

  it('puts its containers on a bridge of its own, not docker0', async () => {
    const [one, two] = await Promise.all([bridgeOf(firstDocker), bridgeOf(secondDocker)]);

    expect(two.name).not.toBe(DEFAULT_BRIDGE);
    expect(two.name).not.toBe(one.name);
    expect(two.cidr).not.toBe(one.cidr);
  });

  it('has the Redis image', async () => {
    const image = await secondDocker.getImage(second.redisImage).inspect();

    expect(image.Config.Cmd).toEqual(['redis-server']);
  });

  it('serves Redis PING from a container publishing a 127.0.0.1 port', async () => {
    const port = await freePort();
    const container = await createContainer(secondDocker, 'serve', port);
    await container.start();

    const published = (await container.inspect()).NetworkSettings.Ports['6379/tcp'];
    expect(published).toEqual([{ HostIp: '127.0.0.1', HostPort: String(port) }]);
    // The port proxy accepts before redis-server listens, and then closes the connection.
    expect(await eventually(() => redisCommand(port, null, 'PING'), 10_000)).toBe('PONG');
  });

  it("does not show one engine's containers to the other", async () => {
    const onFirst = containerName('only-first');
    const onSecond = containerName('only-second');
    await createContainer(firstDocker, 'only-first');
    await createContainer(secondDocker, 'only-second');

    expect(await isListed(firstDocker, onFirst)).toBe(true);
    expect(await isListed(secondDocker, onSecond)).toBe(true);
    expect(await isListed(secondDocker, onFirst)).toBe(false);
    expect(await isListed(firstDocker, onSecond)).toBe(false);

    const missing = await secondDocker.getContainer(onFirst).inspect().catch(statusCode);
    expect(missing).toBe(404);
  });
});

describe('the rule against a second daemon', () => {
  const fresh = (bridge: string): DockerdSettings => ({
    bridge,
    dataRoot: '/var/tmp/redis-controller-engine-fresh/root',
    execRoot: '/var/tmp/redis-controller-engine-fresh/exec',
    pidFile: '/var/tmp/redis-controller-engine-fresh/dockerd.pid',
  });

  it('reads the bridge and directories from a dockerd command line, with defaults', () => {
    const started = dockerdSettings(
      ['--host', 'unix:///e/docker.sock', '--data-root=/e/root', '-b', 'rcbr9', '-p', 'pid'],
      '/e',
    );
    expect(started).toEqual({
      bridge: 'rcbr9',
      dataRoot: '/e/root',
      execRoot: '/var/run/docker',
      pidFile: '/e/pid',
    });
    expect(dockerdSettings(['--bip', '10.9.0.1/24'], '/').bridge).toBe(DEFAULT_BRIDGE);
  });

  it('sees a fresh docker0 engine clash with the first, and a bridged one not', async () => {
    const firstDir = path.dirname(socketOf(first.dockerHost));
    const firstPid = Number(await readFile(enginePaths(firstDir).pidFile, 'utf8'));
    const firstDaemon = (await runningDockerds()).find((daemon) => daemon.pid === firstPid);
    expect(firstDaemon?.settings.bridge).toBe(DEFAULT_BRIDGE);
    const settings = firstDaemon?.settings ?? fresh(DEFAULT_BRIDGE);

    expect(sharedWith(fresh(DEFAULT_BRIDGE), settings)).toEqual([`the bridge ${DEFAULT_BRIDGE}`]);
    expect(sharedWith(fresh('rcbr-unused'), settings)).toEqual([]);
  });
});

describe('npm run engine for the second engine', () => {
  it('reuses it, printing its exports, when given its directory, bridge and address', async () => {
    const dir = path.dirname(socketOf(second.dockerHost));
    const bridge = await bridgeOf(secondDocker);
    const pidFile = enginePaths(dir).pidFile;
    const before = await readFile(pidFile, 'utf8');

    const { stdout, stderr } = await execFileAsync('npm', ['run', '-s', 'engine'], {
      cwd: repoRoot,
      env: { ...process.env, ENGINE_DIR: dir, ENGINE_BRIDGE: bridge.name, ENGINE_BIP: bridge.cidr },
    });

    expect(stdout).toBe(
      `export DOCKER_HOST=${second.dockerHost}\nexport REDIS_IMAGE=${second.redisImage}\n`,
    );
    expect(stderr).toContain('reusing the engine');
    expect(await readFile(pidFile, 'utf8')).toBe(before);
  });
});
