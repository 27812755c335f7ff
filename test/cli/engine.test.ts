import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { enginePaths, pingEngine } from '../../src/cli/engine.js';
import { testEngine } from '../support/engine.js';

const execFileAsync = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const { dockerHost, redisImage } = testEngine();
const socketPath = dockerHost.replace(/^unix:\/\//, '');
const engineDir = path.dirname(socketPath);

/** Names of the containers this file creates, removed at the end whatever the outcome. */
const containers: string[] = [];

function containerName(purpose: string): string {
  const name = `redis-controller-engine-test-${purpose}-${process.pid}`;
  containers.push(name);
  return name;
}

async function docker(args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('docker', args, {
    env: { ...process.env, DOCKER_HOST: dockerHost },
  });
  return stdout.trim();
}

async function runEngineCli(): Promise<{ stdout: string; stderr: string }> {
  return execFileAsync('npm', ['run', '-s', 'engine'], { cwd: repoRoot });
}

/** Sends an inline PING to a TCP port and returns the first reply line. */
function pingRedis(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => socket.write('PING\r\n'));
    socket.setTimeout(2_000, () => socket.destroy(new Error('no reply within 2 s')));
    socket.once('data', (data) => {
      resolve(data.toString('utf8').trim());
      socket.end();
    });
    socket.once('error', reject);
  });
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
  for (const name of containers) {
    try {
      await docker(['rm', '--force', name]);
    } catch (error) {
      // A test that failed before creating its container leaves nothing to remove.
      const stderr = String((error as { stderr?: string }).stderr);
      if (!stderr.includes('No such container')) throw error;
    }
  }
});

describe('the development engine', () => {
  it('answers /_ping on the socket the global setup provided', async () => {
    expect(dockerHost).toMatch(/^unix:\/\/\/.+\/docker\.sock$/);
    expect(await pingEngine(socketPath)).toBe(true);
  });

  it('has the Redis image, configured to run redis-server in /data', async () => {
    const inspected = await docker([
      'image',
      'inspect',
      '--format',
      '{{json .Config}}',
      redisImage,
    ]);
    const config = JSON.parse(inspected) as { Cmd: string[]; WorkingDir: string; Env: string[] };

    expect(config.Cmd).toEqual(['redis-server']);
    expect(config.WorkingDir).toBe('/data');
    expect(config.Env).toContain('PATH=/usr/local/bin:/usr/bin:/bin');
  });

  it('runs redis-server --version in a container from the image', async () => {
    const name = containerName('version');
    const output = await docker([
      'run',
      '--rm',
      '--name',
      name,
      redisImage,
      'redis-server',
      '--version',
    ]);

    expect(output).toMatch(/^Redis server v=\d+\.\d+\.\d+/);
  });

  it('serves Redis on a 127.0.0.1 published port and to redis-cli inside', async () => {
    const name = containerName('serve');
    // Protected mode would refuse the proxied connection, which arrives from the bridge address.
    await docker([
      ...['run', '--detach', '--name', name, '--publish', '127.0.0.1::6379', redisImage],
      ...['redis-server', '--protected-mode', 'no', '--save', ''],
    ]);

    const inside = await eventually(() => docker(['exec', name, 'redis-cli', 'ping']), 10_000);
    expect(inside).toBe('PONG');

    const published = await docker(['port', name, '6379/tcp']);
    const match = /^127\.0\.0\.1:(\d+)$/m.exec(published);
    expect(match?.[1]).toBeDefined();
    expect(await eventually(() => pingRedis(Number(match?.[1])), 10_000)).toBe('+PONG');
  });
});

describe('npm run engine', () => {
  it('prints exactly the two export lines on stdout, for eval', async () => {
    const { stdout } = await runEngineCli();

    expect(stdout).toBe(`export DOCKER_HOST=${dockerHost}\nexport REDIS_IMAGE=${redisImage}\n`);
  });

  it('reuses the running engine instead of starting another when run twice', async () => {
    const pidFile = enginePaths(engineDir).pidFile;
    const before = await readFile(pidFile, 'utf8');

    const first = await runEngineCli();
    const second = await runEngineCli();

    expect(await readFile(pidFile, 'utf8')).toBe(before);
    expect(first.stderr).toContain('reusing the engine');
    expect(second.stderr).toContain('reusing the engine');
    expect(second.stdout).toBe(first.stdout);
  });
});
