/**
 * What the controller asks the engine for, and reads back: the create body of a Redis
 * container, the parts of its inspect result that reconciling compares, and the config archive.
 */
import type Docker from 'dockerode';
import { withDefaultTag } from '../image-ref.js';
import { CONFIG_PATH } from '../redis-config.js';
import {
  type ActualConfig,
  type InstanceSpec,
  LABELS,
  MANAGED_BY_VALUE,
  REDIS_PORT,
} from '../types.js';
import { tarArchive } from './tar.js';

/** The settings the controller chose, as the engine reports them. */
export function actualConfig(info: Docker.ContainerInspectInfo): ActualConfig {
  const host = info.HostConfig;
  const binding = host.PortBindings?.[`${REDIS_PORT}/tcp`]?.[0] as
    | { HostIp?: string; HostPort?: string }
    | undefined;
  return {
    image: info.Config.Image,
    cmd: info.Config.Cmd ?? [],
    env: info.Config.Env ?? [],
    published: binding?.HostPort ? `${binding.HostIp ?? ''}:${binding.HostPort}` : null,
    memoryBytes: host.Memory ?? 0,
    memoryReservationBytes: host.MemoryReservation ?? 0,
    nanoCpus: host.NanoCpus ?? 0,
    cpuShares: host.CpuShares ?? 0,
  };
}

/** The create body: labels, /data volume, published port, limits, restart and log policy. */
export function containerBody(spec: InstanceSpec, ownerId: string): Docker.ContainerCreateOptions {
  const portKey = `${REDIS_PORT}/tcp`;
  return {
    name: spec.appName,
    Image: withDefaultTag(spec.image),
    Cmd: spec.cmd,
    Env: spec.env,
    Labels: {
      [LABELS.managedBy]: MANAGED_BY_VALUE,
      [LABELS.owner]: ownerId,
      [LABELS.redisId]: spec.redisId,
      [LABELS.appName]: spec.appName,
      [LABELS.specHash]: spec.specHash,
      [LABELS.generation]: String(spec.generation),
    },
    ExposedPorts: { [portKey]: {} },
    StopTimeout: spec.stopTimeoutSeconds,
    HostConfig: {
      Mounts: [{ Type: 'volume', Source: spec.volumeName, Target: '/data' }],
      PortBindings:
        spec.externalPort === null
          ? {}
          : { [portKey]: [{ HostIp: spec.publishHost, HostPort: String(spec.externalPort) }] },
      RestartPolicy: { Name: 'unless-stopped' },
      LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } },
      ...(spec.memoryLimitBytes !== null && { Memory: spec.memoryLimitBytes }),
      ...(spec.memoryReservationBytes !== null && {
        MemoryReservation: spec.memoryReservationBytes,
      }),
      ...(spec.nanoCpus !== null && { NanoCpus: spec.nanoCpus }),
      ...(spec.cpuShares !== null && { CpuShares: spec.cpuShares }),
    },
  };
}

/** The config file as an archive rooted at /etc. */
export function configArchive(configText: string): Buffer {
  const relative = CONFIG_PATH.replace(/^\/etc\//, '');
  const directory = relative.slice(0, relative.lastIndexOf('/'));
  return tarArchive([
    { name: directory, mode: 0o755 },
    { name: relative, content: Buffer.from(configText, 'utf8'), mode: 0o644 },
  ]);
}
