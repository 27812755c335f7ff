/**
 * Turns a stored record into the runtime's InstanceSpec: the command line, the config file and
 * the spec hash that tells whether a running container is still what the record asks for.
 */
import { createHmac } from 'node:crypto';
import type { RedisRecord } from '../domain/redis.js';
import { parseCpu, parseMemory } from '../domain/units.js';
import { CONFIG_PATH, renderRedisConfig } from '../runtime/redis-config.js';
import type { InstanceSpec } from '../runtime/types.js';

/** Share of the container's memory limit given to Redis data; the rest covers buffers and forks. */
const MAXMEMORY_SHARE = 0.75;

/** Docker's default cpu weight, the equivalent of one cpu reserved. */
const CPU_SHARES_PER_CPU = 1024;

export interface InstanceOptions {
  publishHost: string;
  stopTimeoutSeconds: number;
  /** Key for the spec hash, so the hash (which covers the password) cannot be brute-forced. */
  hashKey: Buffer;
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
  const cmd = [record.command ?? 'redis-server', ...(record.args ?? [])];
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

  const unhashed: Omit<InstanceSpec, 'specHash'> = {
    redisId: record.redisId,
    appName: record.appName,
    volumeName: volumeNameOf(record.appName),
    image: record.dockerImage,
    configText: renderRedisConfig({
      password: record.databasePassword,
      maxmemoryBytes,
      persistenceDefaults: !custom,
    }),
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
  return { ...unhashed, specHash: specHash(unhashed, options.hashKey) };
}

/** A keyed hash of everything that shapes the container; the generation is left out. */
function specHash(spec: Omit<InstanceSpec, 'specHash'>, key: Buffer): string {
  const { generation: _generation, ...shaping } = spec;
  return createHmac('sha256', key).update(JSON.stringify(shaping)).digest('hex').slice(0, 32);
}
