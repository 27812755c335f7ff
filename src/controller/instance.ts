/**
 * Turns a stored record into the runtime's InstanceSpec: the command line, the config file and
 * the spec hash that tells whether a running container is still what the record asks for.
 */
import { createHmac } from 'node:crypto';
import { commandWords, type RedisRecord } from '../domain/redis.js';
import { parseCpu, parseMemory } from '../domain/units.js';
import { withDefaultTag } from '../runtime/image-ref.js';
import { CONFIG_PATH, renderRedisConfig } from '../runtime/redis-config.js';
import type { ActualConfig, InstanceSpec } from '../runtime/types.js';

/** Share of the container's memory limit given to Redis data; the rest covers buffers and forks. */
const MAXMEMORY_SHARE = 0.75;

/** Docker's default cpu weight, the equivalent of one cpu reserved. */
const CPU_SHARES_PER_CPU = 1024;

export interface InstanceOptions {
  publishHost: string;
  stopTimeoutSeconds: number;
  /** Key for the spec hash and the operator password; kept in the store, never shown. */
  hashKey: Buffer;
}

/** The Redis user the controller itself logs in as, to change the password without a restart. */
export const OPERATOR_USER = 'redis-controller';

/** The operator's password for one record: derived, so it is never stored anywhere. */
export function operatorPassword(redisId: string, key: Buffer): string {
  return createHmac('sha256', key).update(`operator:${redisId}`).digest('hex');
}

/** A keyed fingerprint of a password, to tell whether the running Redis has the current one. */
export function passwordFingerprint(password: string, key: Buffer): string {
  return createHmac('sha256', key).update(`password:${password}`).digest('hex').slice(0, 32);
}

export function volumeNameOf(appName: string): string {
  return `${appName}-data`;
}

function quantity(value: string | null, parse: (v: string) => number | string): number | null {
  if (value === null) return null;
  const parsed = parse(value);
  return typeof parsed === 'number' ? parsed : null;
}

/** `KEY=VALUE` lines to Docker's Env list, skipping blanks and comments. */
export function envEntries(env: string | null): string[] {
  if (!env) return [];
  return env
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/**
 * The container's argv. Without a custom command or args Redis reads only the controller's
 * config file. With them, the user's argv is kept as given and `--include` of the config file
 * is appended, so the password still applies and wins over any `--requirepass` of theirs.
 */
function commandLine(record: RedisRecord): { cmd: string[]; custom: boolean } {
  if (record.command === null && record.args === null) {
    return { cmd: ['redis-server', CONFIG_PATH], custom: false };
  }
  const executable = record.command === null ? ['redis-server'] : commandWords(record.command);
  const cmd = [...executable, ...(record.args ?? [])];
  return { cmd: [...cmd, '--include', CONFIG_PATH], custom: true };
}

export function buildInstanceSpec(record: RedisRecord, options: InstanceOptions): InstanceSpec {
  const memoryLimitBytes = quantity(record.memoryLimit, parseMemory);
  const reservationNanoCpus = quantity(record.cpuReservation, parseCpu);
  const { cmd, custom } = commandLine(record);
  const userSetMaxmemory = cmd.some((arg) => arg.toLowerCase() === '--maxmemory');
  const maxmemoryBytes =
    memoryLimitBytes !== null && !userSetMaxmemory
      ? Math.floor(memoryLimitBytes * MAXMEMORY_SHARE)
      : null;

  const configOptions = {
    maxmemoryBytes,
    persistenceDefaults: !custom,
    operator: { user: OPERATOR_USER, password: operatorPassword(record.redisId, options.hashKey) },
  };
  const unhashed: Omit<InstanceSpec, 'specHash'> = {
    redisId: record.redisId,
    appName: record.appName,
    volumeName: volumeNameOf(record.appName),
    image: record.dockerImage,
    configText: renderRedisConfig({ ...configOptions, password: record.databasePassword }),
    cmd,
    env: envEntries(record.env),
    memoryLimitBytes,
    memoryReservationBytes: quantity(record.memoryReservation, parseMemory),
    nanoCpus: quantity(record.cpuLimit, parseCpu),
    cpuShares:
      reservationNanoCpus === null
        ? null
        : Math.max(2, Math.round((reservationNanoCpus / 1e9) * CPU_SHARES_PER_CPU)),
    externalPort: record.externalPort,
    publishHost: options.publishHost,
    generation: record.generation,
    stopTimeoutSeconds: options.stopTimeoutSeconds,
  };
  // The password is left out of the hash: a new one is applied to the running Redis in place.
  const shaping = {
    ...unhashed,
    configText: renderRedisConfig({ ...configOptions, password: '' }),
    generation: undefined,
  };
  const specHash = createHmac('sha256', options.hashKey)
    .update(JSON.stringify(shaping))
    .digest('hex')
    .slice(0, 32);
  return { ...unhashed, specHash };
}

/**
 * What differs between the container as it runs and the spec it was created from: a change
 * made behind the controller's back (docker update, a container replaced by hand). Empty when
 * they match. The image's own environment may add entries, so env is checked for inclusion.
 */
export function driftOf(spec: InstanceSpec, actual: ActualConfig): string[] {
  const drift: string[] = [];
  if (actual.image !== withDefaultTag(spec.image)) drift.push('image');
  if (JSON.stringify(actual.cmd) !== JSON.stringify(spec.cmd)) drift.push('command');
  if (!spec.env.every((entry) => actual.env.includes(entry))) drift.push('env');
  const published = spec.externalPort === null ? null : `${spec.publishHost}:${spec.externalPort}`;
  if (actual.published !== published) drift.push('ports');
  if (actual.memoryBytes !== (spec.memoryLimitBytes ?? 0)) drift.push('memory');
  if (actual.memoryReservationBytes !== (spec.memoryReservationBytes ?? 0)) {
    drift.push('memoryReservation');
  }
  if (actual.nanoCpus !== (spec.nanoCpus ?? 0)) drift.push('cpus');
  if (spec.cpuShares !== null && actual.cpuShares !== spec.cpuShares) drift.push('cpuShares');
  return drift;
}
