/**
 * `npm run bench`: measures the controller against the private engine and prints one table.
 * Numbers are reported, never asserted. Everything the run creates (containers, volumes, the
 * data directory, the proxy process) is removed at the end, also after a failure or Ctrl-C; the
 * engine is stopped only when this run started it.
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
import { type CountingProxy, startCountingProxy } from './counting-proxy.js';
import { benchDeploy, type DeploySamples } from './deploy.js';
import { benchDrift } from './drift.js';
import { type BenchController, removeLabelled, startBenchController } from './harness.js';
import { collectsGarbage, describeMemory, settledMemory } from './memory.js';
import { benchResync, type ResyncSamples } from './resync.js';
import { mb, median, ms, percentile, renderTable, type TableRow, times, verdict } from './stats.js';

const DEPLOY_RUNS = 7;
const DRIFT_RUNS = 7;
const RESYNC_RUNS = 5;
const RECORDS = 1000;
const DEPLOYED_RECORDS = 5;

const DEPLOY_RATIO_TARGET = 1.3;
const DRIFT_TARGET_MS = 2000;
const RESYNC_CALLS_TARGET = 1;
const RESYNC_CPU_TARGET_MS = 50;
const RSS_TARGET_BYTES = 100 * 1024 * 1024;

/** Put on the raw baseline containers; the controller's own carry its owner label. */
const BENCH_LABEL = 'redis-controller-bench.run';

const progress = (message: string): void => {
  process.stderr.write(`bench: ${message}\n`);
};

interface Results {
  baselineMemory: NodeJS.MemoryUsage;
  deploy: DeploySamples;
  drift: number[];
  resync: ResyncSamples;
  /** Warnings and errors the controller logged during the whole run. */
  logged: string[];
}

async function main(): Promise<void> {
  const started = performance.now();
  const options = engineOptionsFromEnv(process.env);
  const engine = await ensureEngine(options);
  const tag = randomBytes(3).toString('hex');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rc-bench-'));

  let proxy: CountingProxy | null = null;
  let bench: BenchController | null = null;
  let tornDown: Promise<void> | null = null;
  const tearDown = (): Promise<void> => {
    tornDown ??= cleanUp(engine, tag, dataDir, bench, proxy);
    return tornDown;
  };
  const interrupted = (signal: NodeJS.Signals): void => {
    progress(`${signal}: cleaning up`);
    tearDown().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);

  try {
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

    const results: Results = {
      baselineMemory,
      deploy,
      drift,
      resync,
      logged: complaints(bench.logFile),
    };
    process.stdout.write(`${report(results)}\n`);
  } catch (error) {
    // The data directory, and the log in it, goes with the cleanup: show its end first.
    if (bench) progress(`controller log, last lines:\n${lastLines(bench.logFile, 20).join('\n')}`);
    throw error;
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    await tearDown();
  }
  const totalSeconds = (performance.now() - started) / 1000;
  process.stdout.write(`\ntotal run time: ${totalSeconds.toFixed(0)} s\n`);
}

async function cleanUp(
  engine: Engine,
  tag: string,
  dataDir: string,
  bench: BenchController | null,
  proxy: CountingProxy | null,
): Promise<void> {
  const steps: [string, () => Promise<unknown>][] = [];
  if (bench) {
    const { running, ownerId } = bench;
    steps.push(['stopping the controller', () => running.stop()]);
    steps.push([
      "removing the controller's containers and volumes",
      () => removeLabelled(engine.dockerHost, LABELS.owner, ownerId),
    ]);
  }
  steps.push([
    'removing the raw containers',
    () => removeLabelled(engine.dockerHost, BENCH_LABEL, tag),
  ]);
  if (proxy) steps.push(['stopping the counting proxy', () => proxy.stop()]);
  steps.push([
    'removing the data directory',
    async () => fs.rmSync(dataDir, { recursive: true, force: true }),
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

function report({ baselineMemory, deploy, drift, resync, logged }: Results): string {
  const baselineRssBytes = baselineMemory.rss;
  const rssBytes = resync.memory.rss;
  const controllerMedian = median(deploy.controllerMs);
  const rawMedian = median(deploy.rawMs);
  const controllerP90 = percentile(deploy.controllerMs, 90);
  const rawP90 = percentile(deploy.rawMs, 90);
  const rawVolumeMedian = median(deploy.rawVolumeMs);
  const deployRatio = controllerMedian / rawMedian;
  const driftMedian = median(drift);
  const driftP90 = percentile(drift, 90);
  const { few, many } = resync;
  const calls = median(many.calls);
  const cpuMs = median(many.cpuMs);
  const records = `${many.records} records`;
  const fewRecords = `${few.records} records`;

  const rows: TableRow[] = [
    {
      benchmark: 'deploy -> first PONG, median',
      measured: ms(controllerMedian),
      baseline: `${ms(rawMedian)} (raw)`,
      ratio: times(deployRatio),
      target: `<= ${times(DEPLOY_RATIO_TARGET)}`,
      met: verdict(deployRatio <= DEPLOY_RATIO_TARGET, deployRatio, DEPLOY_RATIO_TARGET),
    },
    {
      benchmark: 'deploy -> first PONG, p90',
      measured: ms(controllerP90),
      baseline: `${ms(rawP90)} (raw)`,
      ratio: times(controllerP90 / rawP90),
      target: '-',
      met: '-',
    },
    {
      benchmark: 'deploy -> first PONG, median',
      measured: ms(controllerMedian),
      baseline: `${ms(rawVolumeMedian)} (raw+volume)`,
      ratio: times(controllerMedian / rawVolumeMedian),
      target: '-',
      met: '-',
    },
    ...[
      ['median', driftMedian],
      ['p90', driftP90],
    ].map(([label, value]) => ({
      benchmark: `drift repair -> PONG, ${label}`,
      measured: ms(Number(value)),
      baseline: '-',
      ratio: '-',
      target: `< ${ms(DRIFT_TARGET_MS)}`,
      met: verdict(Number(value) < DRIFT_TARGET_MS, Number(value), DRIFT_TARGET_MS),
    })),
    {
      benchmark: `engine calls per resync, ${records}`,
      measured: String(calls),
      baseline: `${median(few.calls)} (${fewRecords})`,
      ratio: times(calls / median(few.calls)),
      target: `${RESYNC_CALLS_TARGET} (one list)`,
      met: verdict(calls <= RESYNC_CALLS_TARGET, calls, RESYNC_CALLS_TARGET),
    },
    {
      benchmark: `controller CPU per resync, ${records}`,
      measured: ms(cpuMs),
      baseline: `${ms(median(few.cpuMs))} (${fewRecords})`,
      ratio: times(cpuMs / median(few.cpuMs)),
      target: `< ${ms(RESYNC_CPU_TARGET_MS)}`,
      met: verdict(cpuMs < RESYNC_CPU_TARGET_MS, cpuMs, RESYNC_CPU_TARGET_MS),
    },
    {
      benchmark: `resync wall time, ${records}`,
      measured: ms(median(many.wallMs)),
      baseline: `${ms(median(few.wallMs))} (${fewRecords})`,
      ratio: times(median(many.wallMs) / median(few.wallMs)),
      target: '-',
      met: '-',
    },
    {
      benchmark: `controller RSS, ${records}`,
      measured: mb(rssBytes),
      baseline: `${mb(baselineRssBytes)} (no controller)`,
      ratio: times(rssBytes / baselineRssBytes),
      target: `< ${mb(RSS_TARGET_BYTES)}`,
      met: verdict(rssBytes < RSS_TARGET_BYTES, rssBytes, RSS_TARGET_BYTES),
    },
  ];

  const list = (samples: number[]): string => samples.map((value) => value.toFixed(0)).join(', ');
  const routes = Object.entries(many.lastRoutes)
    .sort(([, a], [, b]) => b - a)
    .map(([route, count]) => `  ${String(count).padStart(6)}  ${route}`);
  return [
    renderTable(rows),
    '',
    'samples (ms, in run order):',
    `  controller deploy: ${list(deploy.controllerMs)}`,
    `  raw container:     ${list(deploy.rawMs)}`,
    `  raw + volume:      ${list(deploy.rawVolumeMs)}`,
    `  drift repair:      ${list(drift)}`,
    `  resync CPU, ${fewRecords}:     ${list(few.cpuMs)}`,
    `  resync CPU, ${records}:  ${list(many.cpuMs)}`,
    `  resync wall, ${fewRecords}:    ${list(few.wallMs)}`,
    `  resync wall, ${records}: ${list(many.wallMs)}`,
    `  resync calls, ${fewRecords}:   ${list(few.calls)}`,
    `  resync calls, ${records}: ${list(many.calls)}`,
    '',
    `engine calls of the last resync, by route (${many.records} records: ` +
      `${resync.deployed} running, ${resync.stopped} stopped, ` +
      `${resync.undeployed} never deployed):`,
    ...routes,
    '',
    'warnings and errors the controller logged during the run, by message:',
    ...(logged.length > 0 ? logged : ['  none']),
    '',
    'notes:',
    '  p90 is interpolated between the two nearest samples.',
    '  raw: `redis-server --requirepass`, no volume or config file; raw+volume adds what the',
    "  controller's default adds: a new named volume on /data and --appendonly yes.",
    '  clocks start at the first call; PONG probes at the container start event, then one',
    '  every 20 ms (earlier probes stall ~1 s on ARP retry in both variants).',
    '  CPU and RSS are of this whole process: the controller, its API, and this harness;',
    '  the counting proxy runs in a child process and is not included.',
    `  RSS is read after a full GC: ${collectsGarbage ? 'yes' : 'no (gc unavailable)'}.`,
    `  before the controller: ${describeMemory(baselineMemory)}`,
    `  with ${many.records} records:  ${describeMemory(resync.memory)}`,
    '  the periodic resync timer is set to 1 h so that only the measured resyncs run.',
    `  creating the ${many.records - few.records} idle records and their first reconciles ` +
      `took ${(resync.setupMs / 1000).toFixed(1)} s.`,
  ].join('\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${describeError(error)}\n`);
  process.exitCode = 1;
});
