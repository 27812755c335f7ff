/**
 * Benchmark 5: the resident memory of the controller as users run it (controller-process.ts),
 * empty, then holding as many records as the resync benchmark's and set up the same way: a few
 * running, the rest stopped or never deployed, all created through its API.
 */
import { performance } from 'node:perf_hooks';
import type { ControllerProcess, ProcessMemory } from './controller-process.js';
import { type ControllerApi, createIdle, deployLive } from './databases.js';
import { query, sleep, waitUntil } from './harness.js';

/** How long the controller may take to reconcile every record once after the last is created. */
const RECONCILED_TIMEOUT_MS = 120_000;

/** The check lists every record, work for the controller too; once a second is enough. */
const RECONCILED_POLL_MS = 1_000;

/**
 * Quiet time between the last reconcile and the first reading, so that it is of the controller
 * done with its work, not of the last answers still on their way out.
 */
export const SETTLE_MS = 5_000;

/**
 * How long the idle controller is watched after that. Node gives the heap that creating the
 * records grew back to the system only once it has been idle for a while (V8's memory reducer:
 * some 25 s here), so a reading soon after the work and one at rest can differ by tens of MB.
 */
const REST_MS = 60_000;

/** How often RSS is read while the controller rests. */
export const REST_SAMPLE_MS = 5_000;

export interface FootprintOptions {
  /** Started and answering, with no record and no authenticated call made yet. */
  controller: ControllerProcess;
  image: string;
  records: number;
  deployed: number;
  tag: string;
}

export interface FootprintSamples {
  records: number;
  deployed: number;
  stopped: number;
  undeployed: number;
  /** Up and answering /healthz, before any record or authenticated call. */
  empty: ProcessMemory;
  /** Every record created and reconciled once, then SETTLE_MS of quiet. */
  loaded: ProcessMemory;
  /** Then every REST_SAMPLE_MS for REST_MS without a request: the last is the one at rest. */
  resting: ProcessMemory[];
  /** From the first create to every record reconciled once. */
  setupMs: number;
}

interface RecordRow {
  generation: number;
  status: { observedGeneration: number };
}

interface ProjectRow {
  environments: { environmentId: string }[];
}

export async function benchFootprint(options: FootprintOptions): Promise<FootprintSamples> {
  const { controller } = options;
  const empty = controller.memory();

  const projects = await query<ProjectRow[]>(controller.client, 'project.all');
  const environmentId = projects[0]?.environments[0]?.environmentId;
  if (!environmentId) throw new Error('project.all answered no environment to create records in');
  const api: ControllerApi = { client: controller.client, environmentId };

  const started = performance.now();
  // Container names are the engine's, shared with the controller the other benchmarks run.
  const prefix = `bench-${options.tag}-process`;
  await deployLive(api, { count: options.deployed, prefix, image: options.image });
  const stopped = await createIdle(api, {
    from: options.deployed,
    to: options.records,
    prefix,
    image: options.image,
  });
  await waitUntil(
    `for the ${options.records} records to be reconciled once`,
    () => allReconciled(api, options.records),
    RECONCILED_TIMEOUT_MS,
    RECONCILED_POLL_MS,
  );
  const setupMs = performance.now() - started;

  await sleep(SETTLE_MS);
  const loaded = controller.memory();

  const resting: ProcessMemory[] = [];
  for (let waited = 0; waited < REST_MS; waited += REST_SAMPLE_MS) {
    await sleep(REST_SAMPLE_MS);
    resting.push(controller.memory());
  }
  return {
    records: options.records,
    deployed: options.deployed,
    stopped,
    undeployed: options.records - options.deployed - stopped,
    empty,
    loaded,
    resting,
    setupMs,
  };
}

/** Whether the controller holds `count` records and has reported on each one's last change. */
async function allReconciled(api: ControllerApi, count: number): Promise<boolean> {
  const rows = await query<RecordRow[]>(api.client, 'redis.all');
  return (
    rows.length === count && rows.every((row) => row.status.observedGeneration === row.generation)
  );
}
