/**
 * Benchmark 1: from the first API call to the first authenticated PONG on the published port,
 * against the same image run by hand through dockerode. Runs alternate (controller, raw, raw
 * with a volume, controller, …) so that a slow spell of the shared engine falls on all three.
 *
 * In every variant the clock starts at the first call and the PONG probes at the container's
 * start event (see start-event.ts for why not earlier).
 */
import { performance } from 'node:perf_hooks';
import type Docker from 'dockerode';
import { REDIS_PORT } from '../../src/runtime/types.js';
import { freePort } from '../support/resp.js';
import { createAndDeploy, newPassword, removeDatabase } from './databases.js';
import type { BenchController } from './harness.js';
import { waitForPong } from './pong.js';
import { watchStart } from './start-event.js';

/** Longer than any start seen here by far; a run that needs it has failed, not been slow. */
const PONG_TIMEOUT_MS = 60_000;

export interface DeploySamples {
  controllerMs: number[];
  /** `redis-server --requirepass`, nothing else: the floor. */
  rawMs: number[];
  /**
   * The raw container plus what the controller's default adds on the engine: a new named volume
   * on /data with append-only persistence. Tells the cost of that feature from the rest.
   */
  rawVolumeMs: number[];
}

export interface DeployOptions {
  bench: BenchController;
  /** A client of the engine itself, not of the counting proxy. */
  docker: Docker;
  image: string;
  runs: number;
  /** The label key and value put on the raw containers and volumes, so cleanup finds them. */
  label: [string, string];
  tag: string;
}

export async function benchDeploy(options: DeployOptions): Promise<DeploySamples> {
  const samples: DeploySamples = { controllerMs: [], rawMs: [], rawVolumeMs: [] };
  for (let run = 0; run < options.runs; run++) {
    samples.controllerMs.push(await controllerRun(options, run));
    samples.rawMs.push(await rawRun(options, run, false));
    samples.rawVolumeMs.push(await rawRun(options, run, true));
  }
  return samples;
}

async function controllerRun(options: DeployOptions, run: number): Promise<number> {
  const port = await freePort();
  const password = newPassword();
  const appName = `bench-${options.tag}-deploy-${run}`;
  const watch = await watchStart(options.docker, appName, PONG_TIMEOUT_MS);
  const probing = new AbortController();
  const started = performance.now();
  const pong = watch.started.then(() =>
    waitForPong(port, password, PONG_TIMEOUT_MS, probing.signal),
  );
  let redisId: string | null = null;
  try {
    ({ redisId } = await createAndDeploy(options.bench, {
      appName,
      port,
      image: options.image,
      password,
    }));
    await pong;
    return performance.now() - started;
  } finally {
    // The probes end with the run, also when it failed before the PONG.
    watch.close();
    probing.abort();
    await pong.catch(() => undefined);
    if (redisId) await removeDatabase(options.bench, redisId);
    await options.bench.running.controller.whenIdle();
  }
}

async function rawRun(options: DeployOptions, run: number, withVolume: boolean): Promise<number> {
  const { docker } = options;
  const port = await freePort();
  const password = newPassword();
  const portKey = `${REDIS_PORT}/tcp`;
  const [labelKey, labelValue] = options.label;
  const name = `bench-${options.tag}-raw${withVolume ? 'vol' : ''}-${run}`;
  const volumeName = `${name}-data`;

  const watch = await watchStart(docker, name, PONG_TIMEOUT_MS);
  const probing = new AbortController();
  const started = performance.now();
  const pong = watch.started.then(() =>
    waitForPong(port, password, PONG_TIMEOUT_MS, probing.signal),
  );
  let container: Docker.Container | null = null;
  try {
    if (withVolume) {
      await docker.createVolume({ Name: volumeName, Labels: { [labelKey]: labelValue } });
    }
    container = await docker.createContainer({
      name,
      Image: options.image,
      // An argument vector, no shell: the password's quote and space reach Redis as they are.
      Cmd: [
        'redis-server',
        '--requirepass',
        password,
        ...(withVolume ? ['--dir', '/data', '--appendonly', 'yes'] : []),
      ],
      Labels: { [labelKey]: labelValue },
      ExposedPorts: { [portKey]: {} },
      HostConfig: {
        PortBindings: { [portKey]: [{ HostIp: '127.0.0.1', HostPort: String(port) }] },
        ...(withVolume && {
          Mounts: [{ Type: 'volume', Source: volumeName, Target: '/data' }],
          RestartPolicy: { Name: 'unless-stopped' },
        }),
      },
    });
    await container.start();
    await pong;
    return performance.now() - started;
  } finally {
    watch.close();
    probing.abort();
    await pong.catch(() => undefined);
    await container?.remove({ force: true, v: true });
    if (withVolume) await docker.getVolume(volumeName).remove();
  }
}
