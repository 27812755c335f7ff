/** The table and the notes `npm run bench` prints, from the samples of one run. */
import type { DeploySamples } from './deploy.js';
import { type FootprintSamples, REST_SAMPLE_MS, SETTLE_MS } from './footprint.js';
import { collectsGarbage, describeMemory } from './memory.js';
import type { ResyncSamples } from './resync.js';
import { mb, median, ms, percentile, renderTable, type TableRow, times, verdict } from './stats.js';

const DEPLOY_RATIO_TARGET = 1.3;
const DRIFT_TARGET_MS = 2000;
const RESYNC_CALLS_TARGET = 1;
const RESYNC_CPU_TARGET_MS = 50;
const RSS_TARGET_BYTES = 100 * 1024 * 1024;

export interface Results {
  /** This process before the controller was started in it. */
  baselineMemory: NodeJS.MemoryUsage;
  deploy: DeploySamples;
  drift: number[];
  resync: ResyncSamples;
  footprint: FootprintSamples;
  /** How the built controller ended on SIGTERM: `code 0` is a graceful exit. */
  footprintExit: string;
  /** Warnings and errors the controller in this process logged during the whole run. */
  logged: string[];
  /** The same, of the built controller. */
  footprintLogged: string[];
}

export function report(results: Results): string {
  const { baselineMemory, deploy, drift, resync, footprint, logged } = results;
  const { empty, loaded, resting } = footprint;
  const rest = resting.at(-1) ?? loaded;
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
  const footprintRecords = `${footprint.records} records`;

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
      benchmark: `controller RSS, ${footprintRecords}`,
      measured: mb(loaded.rssBytes),
      baseline: `${mb(empty.rssBytes)} (no records)`,
      ratio: times(loaded.rssBytes / empty.rssBytes),
      target: `< ${mb(RSS_TARGET_BYTES)}`,
      met: verdict(loaded.rssBytes < RSS_TARGET_BYTES, loaded.rssBytes, RSS_TARGET_BYTES),
    },
    {
      benchmark: `controller RSS at rest, ${footprintRecords}`,
      measured: mb(rest.rssBytes),
      baseline: `${mb(empty.rssBytes)} (no records)`,
      ratio: times(rest.rssBytes / empty.rssBytes),
      target: `< ${mb(RSS_TARGET_BYTES)}`,
      met: verdict(rest.rssBytes < RSS_TARGET_BYTES, rest.rssBytes, RSS_TARGET_BYTES),
    },
    {
      benchmark: `controller peak RSS, ${footprintRecords}`,
      measured: mb(rest.peakRssBytes),
      baseline: `${mb(empty.peakRssBytes)} (no records)`,
      ratio: times(rest.peakRssBytes / empty.peakRssBytes),
      target: '-',
      met: '-',
    },
  ];

  const list = (samples: number[]): string => samples.map((value) => value.toFixed(0)).join(', ');
  const seconds = (durationMs: number): string => `${(durationMs / 1000).toFixed(0)} s`;
  const restingMb = resting.map(({ rssBytes }) => (rssBytes / 1024 / 1024).toFixed(1)).join(', ');
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
    'warnings and errors the built controller logged, by message:',
    ...(results.footprintLogged.length > 0 ? results.footprintLogged : ['  none']),
    '',
    'notes:',
    '  p90 is interpolated between the two nearest samples.',
    '  raw: `redis-server --requirepass`, no volume or config file; raw+volume adds what the',
    "  controller's default adds: a new named volume on /data and --appendonly yes.",
    '  clocks start at the first call; PONG probes at the container start event, then one',
    '  every 20 ms (earlier probes stall ~1 s on ARP retry in both variants).',
    '  CPU is of this whole process: the controller, its API, and this harness; the counting',
    '  proxy runs in a child process and is not included.',
    `  this process, RSS after a full GC (${collectsGarbage ? 'yes' : 'no: gc unavailable'}):`,
    `    before the controller: ${describeMemory(baselineMemory)}`,
    `    with ${many.records} records:  ${describeMemory(resync.memory)}`,
    '  the periodic resync timer is set to 1 h so that only the measured resyncs run.',
    `  creating the ${many.records - few.records} idle records and their first reconciles ` +
      `took ${(resync.setupMs / 1000).toFixed(1)} s.`,
    '  controller RSS is of the controller run as `npm start` runs it (built by `npm run build`',
    '  at the start of the run), in a child process with the same settings: VmRSS (peak: VmHWM) of',
    '  /proc/<pid>/status once /healthz answers (the baseline), then once all records were',
    `  reconciled and ${footprint.deployed} of them answer PONG ` +
      `(${footprint.stopped} stopped, ${footprint.undeployed} never deployed) ` +
      `and ${seconds(SETTLE_MS)} passed,`,
    `  then every ${seconds(REST_SAMPLE_MS)} while nothing calls it; ` +
      'at rest is the last of these. Node gives unused',
    '  heap back to the system only after some idle time; the baseline is read at start-up,',
    '  before any such release, so it is not a resting figure.',
    `  its RSS at rest, every ${seconds(REST_SAMPLE_MS)}: ${restingMb} MB`,
    `  setting up its records took ${(footprint.setupMs / 1000).toFixed(1)} s; ` +
      `on SIGTERM it exited with ${results.footprintExit}.`,
  ].join('\n');
}
