/**
 * Benchmark 2: a healthy managed container is removed behind the controller's back; the time
 * until an authenticated PONG answers on its port again is the time to repair that drift.
 */
import { performance } from 'node:perf_hooks';
import type Docker from 'dockerode';
import { freePort } from '../support/resp.js';
import { createAndDeploy, isReady, removeDatabase } from './databases.js';
import { type BenchController, waitUntil } from './harness.js';
import { waitForPong } from './pong.js';
import { watchStart } from './start-event.js';

const PONG_TIMEOUT_MS = 60_000;

export interface DriftOptions {
  bench: BenchController;
  /** A client of the engine itself, not of the counting proxy. */
  docker: Docker;
  image: string;
  runs: number;
  tag: string;
}

export async function benchDrift(options: DriftOptions): Promise<number[]> {
  const { bench, docker } = options;
  const port = await freePort();
  const database = await createAndDeploy(bench, {
    appName: `bench-${options.tag}-drift`,
    port,
    image: options.image,
  });

  const samples: number[] = [];
  try {
    for (let run = 0; run < options.runs; run++) {
      // Each run starts from a container the controller itself has seen ready and is done with.
      await waitForPong(port, database.password, PONG_TIMEOUT_MS);
      await waitUntil(
        'for the controller to see Redis ready',
        () => isReady(bench, database.redisId),
        PONG_TIMEOUT_MS,
      );
      await bench.running.controller.whenIdle();

      // Probes begin at the replacement's start (see start-event.ts); the clock at the removal.
      const watch = await watchStart(docker, database.appName, PONG_TIMEOUT_MS);
      try {
        const started = performance.now();
        await docker.getContainer(database.appName).remove({ force: true });
        await watch.started;
        await waitForPong(port, database.password, PONG_TIMEOUT_MS);
        samples.push(performance.now() - started);
      } finally {
        watch.close();
      }
    }
  } finally {
    await removeDatabase(bench, database.redisId);
    await bench.running.controller.whenIdle();
  }
  return samples;
}
