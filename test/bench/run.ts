/**
 * `npm run bench`: measures the controller against the private engine and prints one table.
 * Numbers are reported, never asserted. Everything the run creates (containers, volumes, the
 * data directories, the proxy and controller processes) is removed at the end, also after a
 * failure or Ctrl-C; the engine is stopped only when this run started it.
 *
 * Time, engine calls and CPU are measured on the controller run in this process; memory on the
 * controller built and run as users run it, in a child process (controller-process.ts).
 *
 * Progress goes to stderr, the results to stdout.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  describeError,
  type Engine,
  engineOptionsFromEnv,
  ensureEngine,
  stopEngine,
} from '../../src/cli/engine.js';
import { dockerFromHost } from '../../src/runtime/docker/client.js';
import { LABELS } from '../../src/runtime/types.js';
import { complaints, lastLines } from './controller-log.js';
import {
  buildController,
  type ControllerProcess,
  ownerIdOf,
  startControllerProcess,
} from './controller-process.js';
import { type CountingProxy, startCountingProxy } from './counting-proxy.js';
import { benchDeploy } from './deploy.js';
import { benchDrift } from './drift.js';
import { benchFootprint } from './footprint.js';
import { type BenchController, removeLabelled, startBenchController } from './harness.js';
import { settledMemory } from './memory.js';
import { type Results, report } from './report.js';
import { benchResync } from './resync.js';

const DEPLOY_RUNS = 7;
const DRIFT_RUNS = 7;
const RESYNC_RUNS = 5;
const RECORDS = 1000;
const DEPLOYED_RECORDS = 5;

/** Put on the raw baseline containers; the controller's own carry its owner label. */
const BENCH_LABEL = 'redis-controller-bench.run';

const progress = (message: string): void => {
  process.stderr.write(`bench: ${message}\n`);
};

async function main(): Promise<void> {
  const started = performance.now();
  const options = engineOptionsFromEnv(process.env);
  const engine = await ensureEngine(options);
  const tag = randomBytes(3).toString('hex');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rc-bench-'));
  // The built controller's own, as a user's would be.
  const processDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rc-bench-process-'));

  let proxy: CountingProxy | null = null;
  let bench: BenchController | null = null;
  let controllerProcess: ControllerProcess | null = null;
  let tornDown: Promise<void> | null = null;
  const tearDown = (): Promise<void> => {
    tornDown ??= cleanUp(engine, tag, {
      dataDir,
      processDataDir,
      bench,
      proxy,
      controllerProcess,
    });
    return tornDown;
  };
  const interrupted = (signal: NodeJS.Signals): void => {
    progress(`${signal}: cleaning up`);
    tearDown().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);

  try {
    // First, so that a controller that does not build fails the run before it has taken minutes.
    progress('building the controller (npm run build)');
    const nodeArgs = await buildController();

    const engineSocket = engine.dockerHost.slice('unix://'.length);
    proxy = await startCountingProxy(engineSocket, path.join(dataDir, 'engine.sock'));
    // Before the controller exists: what this process weighs without it.
    const baselineMemory = settledMemory();
    bench = await startBenchController(proxy.dockerHost, dataDir);
    await bench.running.controller.whenIdle();
    const docker = dockerFromHost(engine.dockerHost);

    progress(`deploy -> PONG, ${DEPLOY_RUNS} runs each of controller, raw, raw+volume`);
    const deploy = await benchDeploy({
      bench,
      docker,
      image: engine.redisImage,
      runs: DEPLOY_RUNS,
      label: [BENCH_LABEL, tag],
      tag,
    });

    progress(`drift repair, ${DRIFT_RUNS} runs`);
    const drift = await benchDrift({
      bench,
      docker,
      image: engine.redisImage,
      runs: DRIFT_RUNS,
      tag,
    });

    progress(`resync of ${RECORDS} records (${DEPLOYED_RECORDS} deployed), ${RESYNC_RUNS} runs`);
    const resync = await benchResync({
      bench,
      proxy,
      image: engine.redisImage,
      records: RECORDS,
      deployed: DEPLOYED_RECORDS,
      runs: RESYNC_RUNS,
      tag,
    });

    progress(`memory of the built controller, ${RECORDS} records (${DEPLOYED_RECORDS} deployed)`);
    controllerProcess = await startControllerProcess(nodeArgs, engine.dockerHost, processDataDir);
    await controllerProcess.waitAnswering();
    const footprint = await benchFootprint({
      controller: controllerProcess,
      image: engine.redisImage,
      records: RECORDS,
      deployed: DEPLOYED_RECORDS,
      tag,
    });
    const footprintExit = await controllerProcess.stop();

    const results: Results = {
      baselineMemory,
      deploy,
      drift,
      resync,
      footprint,
      footprintExit,
      logged: complaints(bench.logFile),
      footprintLogged: complaints(controllerProcess.logFile),
    };
    process.stdout.write(`${report(results)}\n`);
  } catch (error) {
    // The data directory, and the log in it, goes with the cleanup: show its end first.
    if (bench) progress(`controller log, last lines:\n${lastLines(bench.logFile, 20).join('\n')}`);
    if (controllerProcess) {
      const lines = lastLines(controllerProcess.logFile, 20).join('\n');
      progress(`built controller log, last lines:\n${lines}`);
    }
    throw error;
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    await tearDown();
  }
  const totalSeconds = (performance.now() - started) / 1000;
  process.stdout.write(`\ntotal run time: ${totalSeconds.toFixed(0)} s\n`);
}

/** What a run may leave behind; null for what it had not got round to starting. */
interface Leftovers {
  dataDir: string;
  processDataDir: string;
  bench: BenchController | null;
  proxy: CountingProxy | null;
  controllerProcess: ControllerProcess | null;
}

async function cleanUp(engine: Engine, tag: string, leftovers: Leftovers): Promise<void> {
  const { dataDir, processDataDir, bench, proxy, controllerProcess } = leftovers;
  const steps: [string, () => Promise<unknown>][] = [];
  if (bench) {
    const { running, ownerId } = bench;
    steps.push(['stopping the controller', () => running.stop()]);
    steps.push([
      "removing the controller's containers and volumes",
      () => removeLabelled(engine.dockerHost, LABELS.owner, ownerId),
    ]);
  }
  if (controllerProcess) {
    steps.push(['stopping the built controller', () => controllerProcess.stop()]);
    // Its owner id is in its store, which is read once the process has exited.
    steps.push([
      "removing the built controller's containers and volumes",
      () => removeLabelled(engine.dockerHost, LABELS.owner, ownerIdOf(processDataDir)),
    ]);
  }
  steps.push([
    'removing the raw containers',
    () => removeLabelled(engine.dockerHost, BENCH_LABEL, tag),
  ]);
  if (proxy) steps.push(['stopping the counting proxy', () => proxy.stop()]);
  steps.push([
    'removing the data directories',
    async () => {
      fs.rmSync(dataDir, { recursive: true, force: true });
      fs.rmSync(processDataDir, { recursive: true, force: true });
    },
  ]);
  // An engine that was already running belongs to someone else, who may still be using it.
  if (engine.startedByUs) {
    steps.push(['stopping the engine this run started', () => stopEngine(engine.dir, progress)]);
  }

  // Each step is tried even when one before it failed, so one failure leaves the least behind.
  for (const [what, step] of steps) {
    try {
      await step();
    } catch (error) {
      progress(`${what} failed: ${describeError(error)}`);
      process.exitCode = 1;
    }
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${describeError(error)}\n`);
  process.exitCode = 1;
});
