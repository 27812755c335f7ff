/**
 * Benchmarks 3 and 4: a controller holding 1000 records, a few really running and the rest
 * stopped or never deployed, goes through a full resync. Measured: the engine API calls one
 * resync makes (counted by the proxy in front of the engine), the CPU time this process spends
 * on it, and this process's resident memory once it has settled (the memory of the controller
 * as users run it is measured apart, in footprint.ts).
 *
 * Every record is one a resync must visit: the safety net exists to catch drift in any of them,
 * deployed or not, so none is left out to flatter the numbers.
 */
import { performance } from 'node:perf_hooks';
import type { CountingProxy, EngineCalls } from './counting-proxy.js';
import { createIdle, deployLive } from './databases.js';
import { type BenchController, sleep } from './harness.js';
import { settledMemory } from './memory.js';

/** The engine counts as quiet once this long passes without a request from the controller. */
const QUIET_MS = 300;

/** A controller still calling the engine after this long is retrying something that fails. */
const QUIET_TIMEOUT_MS = 60_000;

export interface ResyncOptions {
  bench: BenchController;
  proxy: CountingProxy;
  image: string;
  records: number;
  deployed: number;
  runs: number;
  tag: string;
}

/** Repeated resyncs of the same set of records. */
export interface ResyncRuns {
  records: number;
  calls: number[];
  cpuMs: number[];
  wallMs: number[];
  /** The routes of the last resync, for telling which calls are made per record. */
  lastRoutes: Record<string, number>;
}

export interface ResyncSamples {
  deployed: number;
  stopped: number;
  undeployed: number;
  /** With only the deployed records: shows whether the cost grows with the record count. */
  few: ResyncRuns;
  many: ResyncRuns;
  memory: NodeJS.MemoryUsage;
  /** Time to create the idle records through the API and let the controller see each once. */
  setupMs: number;
}

export async function benchResync(options: ResyncOptions): Promise<ResyncSamples> {
  const { bench, proxy } = options;

  const prefix = `bench-${options.tag}`;
  await deployLive(bench, { count: options.deployed, prefix, image: options.image });
  const few = await measureResyncs(bench, proxy, options.deployed, options.runs);

  const setupStarted = performance.now();
  const stopped = await createIdle(bench, {
    from: options.deployed,
    to: options.records,
    prefix,
    image: options.image,
  });
  await quiet(bench, proxy);
  const setupMs = performance.now() - setupStarted;

  const many = await measureResyncs(bench, proxy, options.records, options.runs);
  return {
    deployed: options.deployed,
    stopped,
    undeployed: options.records - options.deployed - stopped,
    few,
    many,
    memory: settledMemory(),
    setupMs,
  };
}

async function measureResyncs(
  bench: BenchController,
  proxy: CountingProxy,
  records: number,
  runs: number,
): Promise<ResyncRuns> {
  const controller = bench.running.controller;
  const samples: ResyncRuns = { records, calls: [], cpuMs: [], wallMs: [], lastRoutes: {} };
  for (let run = 0; run < runs; run++) {
    await quiet(bench, proxy);
    await proxy.calls({ reset: true });

    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    // resync() lists the runtime, then queues every record; idle means all were reconciled.
    await controller.resync();
    await controller.whenIdle();
    const cpu = process.cpuUsage(cpuBefore);
    samples.wallMs.push(performance.now() - started);
    samples.cpuMs.push((cpu.user + cpu.system) / 1000);

    // Counted once the engine is quiet, so a call that outlives whenIdle() is not missed.
    const calls = await quiet(bench, proxy);
    samples.calls.push(calls.total);
    samples.lastRoutes = calls.routes;
  }
  return samples;
}

/** Waits until the controller is idle and the engine has heard nothing from it for a while. */
async function quiet(bench: BenchController, proxy: CountingProxy): Promise<EngineCalls> {
  const deadline = Date.now() + QUIET_TIMEOUT_MS;
  for (;;) {
    if (Date.now() > deadline) {
      throw new Error(`the controller kept calling the engine for ${QUIET_TIMEOUT_MS} ms`);
    }
    await bench.running.controller.whenIdle();
    const before = await proxy.calls();
    await sleep(QUIET_MS);
    const after = await proxy.calls();
    if (after.total === before.total) return after;
  }
}
