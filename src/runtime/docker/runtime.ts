/**
 * The Runtime interface on a Docker engine, through dockerode. Each call names the engine
 * answers it treats as success (404 absent, 304 already in that state) and turns the rest into
 * RuntimeErrors a user can act on.
 */
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { NANO_CPUS_PER_CPU } from '../../domain/units.js';
import { withDefaultTag } from '../image-ref.js';
import {
  ContainerGoneError,
  type ContainerState,
  ForeignVolumeError,
  type InstanceSpec,
  LABELS,
  MANAGED_BY_VALUE,
  type ObservedContainer,
  type PingResult,
  type Runtime,
  RuntimeError,
  type RuntimeWatcher,
} from '../types.js';
import { dockerFromHost, type EngineCredentials } from './client.js';
import { actualConfig, configArchive, containerBody } from './container-body.js';
import {
  engineReason,
  hostAddressIn,
  hostKeyRefused,
  portTaken,
  statusOf,
  taskLeftBehind,
} from './errors.js';
import { watchContainerEvents } from './events.js';
import { type RedisCliRun, runRedisCli } from './exec.js';
import { demux } from './streams.js';

/** Docker's zero time, which it reports for "never". */
const ZERO_TIME = '0001-01-01T00:00:00Z';

export interface DockerRuntimeOptions {
  dockerHost: string;
  credentials?: EngineCredentials;
  /** Identity of this controller's store; only containers labelled with it are ours. */
  ownerId: string;
}

/**
 * The container is going or gone: 404 (for the container, not a path in it), or an answer
 * saying a removal is under way (409, or 500 "RWLayer … nil" while its layer is torn down).
 */
function goneUnderUs(error: unknown): boolean {
  const status = statusOf(error);
  const reason = engineReason(error);
  if (status === 404) return /no such container/i.test(reason);
  return (status === 409 || status === 500) && /removal|being removed|RWLayer/i.test(reason);
}

/** Settings the engine refuses: asking again cannot help until the spec changes. */
function settingsRefused(reason: string, cause?: unknown): RuntimeError {
  return new RuntimeError(
    `the engine refuses the container's settings; change the spec: ${reason}`,
    {
      terminal: true,
      cause,
    },
  );
}

function generationOf(labels: Record<string, string>): number | null {
  const generation = Number(labels[LABELS.generation]);
  return Number.isSafeInteger(generation) ? generation : null;
}

export class DockerRuntime implements Runtime {
  readonly docker: Docker;
  private readonly ownerId: string;
  /** The engine's address, to name it in messages. */
  private readonly dockerHost: string;
  /** The engine host's CPU count, read once it is needed. */
  private hostCpus: number | undefined;
  /** The last SSH host key refused for not being the pinned one, as a pin. */
  private refusedHostKey: string | null = null;

  constructor(options: DockerRuntimeOptions) {
    // Named in log lines, so without any user:password a tcp:// address might carry.
    this.dockerHost = options.dockerHost.replace(/\/\/[^@/]*@/, '//');
    this.docker = dockerFromHost(options.dockerHost, {
      ...options.credentials,
      onHostKeyRefused: (shown) => {
        this.refusedHostKey = shown;
      },
    });
    this.ownerId = options.ownerId;
  }

  private rethrow(error: unknown, what: string): never {
    if (error instanceof RuntimeError) throw error;
    let reason = engineReason(error);
    // The key shown, so that the user can tell a reinstalled server from an impostor.
    if (hostKeyRefused(error) && this.refusedHostKey) {
      reason += `; the server showed ${this.refusedHostKey}`;
    }
    throw new RuntimeError(`${what}: ${reason}`, { cause: error });
  }

  watch(watcher: RuntimeWatcher): () => void {
    return watchContainerEvents(this.docker, this.ownerId, watcher, this.dockerHost);
  }

  async findContainer(appName: string): Promise<ObservedContainer | null> {
    let info: Docker.ContainerInspectInfo;
    try {
      info = await this.docker.getContainer(appName).inspect();
    } catch (error) {
      if (statusOf(error) === 404) return null;
      this.rethrow(error, `inspecting container "${appName}" failed`);
    }
    // The engine also resolves id prefixes; only an exact name is ours.
    if (info.Name !== `/${appName}`) return null;
    const labels = info.Config.Labels ?? {};
    if (labels[LABELS.managedBy] !== MANAGED_BY_VALUE) {
      throw new RuntimeError(
        `a container named "${appName}" exists and is not managed by redis-controller; ` +
          'rename or remove it, or choose another appName',
        { terminal: true },
      );
    }
    if (labels[LABELS.owner] !== this.ownerId) {
      throw new RuntimeError(
        `a container named "${appName}" belongs to another redis-controller on this engine; ` +
          'choose another appName',
        { terminal: true },
      );
    }
    return {
      id: info.Id,
      name: appName,
      state: info.State.Status as ContainerState,
      exitCode: info.State.ExitCode,
      oomKilled: info.State.OOMKilled,
      restartCount: info.RestartCount,
      redisId: labels[LABELS.redisId] ?? null,
      specHash: labels[LABELS.specHash] ?? null,
      generation: generationOf(labels),
      startedAt: info.State.StartedAt === ZERO_TIME ? null : info.State.StartedAt,
      finishedAt: info.State.FinishedAt === ZERO_TIME ? null : info.State.FinishedAt,
      actual: actualConfig(info),
    };
  }

  async listManagedContainers(): Promise<ObservedContainer[]> {
    let list: Docker.ContainerInfo[];
    try {
      list = await this.docker.listContainers({
        all: true,
        filters: { label: [`${LABELS.owner}=${this.ownerId}`] },
      });
    } catch (error) {
      this.rethrow(error, 'listing containers failed');
    }
    return list.map((summary) => ({
      id: summary.Id,
      name: (summary.Names[0] ?? '').replace(/^\//, ''),
      state: summary.State as ContainerState,
      exitCode: Number(/Exited \((\d+)\)/.exec(summary.Status)?.[1] ?? 0),
      oomKilled: false,
      restartCount: 0,
      redisId: summary.Labels[LABELS.redisId] ?? null,
      specHash: summary.Labels[LABELS.specHash] ?? null,
      generation: generationOf(summary.Labels),
      startedAt: null,
      finishedAt: null,
    }));
  }

  async volumeExists(volumeName: string, redisId: string): Promise<boolean> {
    let labels: Record<string, string>;
    try {
      labels = (await this.docker.getVolume(volumeName).inspect()).Labels ?? {};
    } catch (error) {
      if (statusOf(error) === 404) return false;
      this.rethrow(error, `inspecting volume "${volumeName}" failed`);
    }
    // Data is never shared or deleted unless this controller made the volume for this record.
    if (labels[LABELS.owner] !== this.ownerId || labels[LABELS.redisId] !== redisId) {
      const whose =
        labels[LABELS.managedBy] === MANAGED_BY_VALUE
          ? 'belongs to another redis-controller or database'
          : 'was not created by redis-controller';
      throw new ForeignVolumeError(
        `volume "${volumeName}" already exists and ${whose}; remove or rename it, ` +
          'or choose another appName',
      );
    }
    return true;
  }

  async checkSettings(spec: InstanceSpec): Promise<void> {
    if (spec.nanoCpus === null) return;
    this.hostCpus ??= await this.readHostCpus();
    // Unknown, the engine's own answer at create time has the last word.
    if (this.hostCpus === undefined || spec.nanoCpus <= this.hostCpus * NANO_CPUS_PER_CPU) return;
    throw settingsRefused(
      `cpuLimit asks for ${spec.nanoCpus / NANO_CPUS_PER_CPU} CPUs and the engine's host has ` +
        `${this.hostCpus}`,
    );
  }

  private async readHostCpus(): Promise<number | undefined> {
    try {
      const { NCPU } = await this.docker.info();
      return typeof NCPU === 'number' && NCPU > 0 ? NCPU : undefined;
    } catch {
      return undefined;
    }
  }

  async imagePresent(image: string): Promise<boolean> {
    try {
      await this.docker.getImage(withDefaultTag(image)).inspect();
      return true;
    } catch (error) {
      if (statusOf(error) === 404) return false;
      this.rethrow(error, `inspecting image "${image}" failed`);
    }
  }

  async pullImage(image: string): Promise<void> {
    const reference = withDefaultTag(image);
    const failed = (reason: string, cause?: unknown): RuntimeError =>
      new RuntimeError(`image "${image}" could not be pulled: ${reason}`, {
        // Not found, no access, or a malformed name: retrying the same spec cannot help.
        terminal: /not found|does not exist|denied|unauthorized|invalid reference/i.test(reason),
        cause,
      });

    let stream: Readable;
    try {
      stream = (await this.docker.pull(reference)) as Readable;
    } catch (error) {
      throw failed(engineReason(error), error);
    }
    await new Promise<void>((resolve, reject) => {
      let streamError: string | null = null;
      this.docker.modem.followProgress(
        stream,
        (error: Error | null) => {
          if (error) reject(failed(engineReason(error), error));
          else if (streamError) reject(failed(streamError));
          else resolve();
        },
        (event: { error?: string }) => {
          if (event.error) streamError = event.error;
        },
      );
    });
  }

  async createVolume(volumeName: string, redisId: string, appName: string): Promise<void> {
    try {
      await this.docker.createVolume({
        Name: volumeName,
        Labels: {
          [LABELS.managedBy]: MANAGED_BY_VALUE,
          [LABELS.owner]: this.ownerId,
          [LABELS.redisId]: redisId,
          [LABELS.appName]: appName,
        },
      });
    } catch (error) {
      this.rethrow(error, `creating volume "${volumeName}" failed`);
    }
  }

  async removeVolume(volumeName: string): Promise<void> {
    try {
      await this.docker.getVolume(volumeName).remove();
    } catch (error) {
      const status = statusOf(error);
      if (status === 404) return;
      if (status === 409) {
        throw new RuntimeError(`volume "${volumeName}" is still in use by a container`, {
          cause: error,
        });
      }
      this.rethrow(error, `removing volume "${volumeName}" failed`);
    }
  }

  async createContainer(spec: InstanceSpec): Promise<string> {
    let container: Docker.Container;
    try {
      container = await this.docker.createContainer(containerBody(spec, this.ownerId));
    } catch (error) {
      if (statusOf(error) === 409) {
        throw new RuntimeError(`a container named "${spec.appName}" already exists`, {
          cause: error,
        });
      }
      if (statusOf(error) === 404) {
        throw new RuntimeError(`image "${spec.image}" is not present on the engine`, {
          cause: error,
        });
      }
      // The engine refuses the settings themselves (say, a CPU limit above the host's CPUs).
      if (statusOf(error) === 400) throw settingsRefused(engineReason(error), error);
      this.rethrow(error, `creating container "${spec.appName}" failed`);
    }

    try {
      await this.writeConfig(container.id, spec.configText);
    } catch (error) {
      // Removal failing too must not hide why the container could not be prepared.
      await this.removeContainer(container.id).catch((cleanup: unknown) => {
        throw new RuntimeError(
          `${(error as Error).message}; removing the half-made container also failed: ` +
            engineReason(cleanup),
          { cause: error },
        );
      });
      if (statusOf((error as Error).cause) === 404) {
        throw new RuntimeError(`image "${spec.image}" has no /etc to hold the Redis config`, {
          terminal: true,
          cause: error,
        });
      }
      throw error;
    }
    return container.id;
  }

  async startContainer(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).start();
    } catch (error) {
      if (statusOf(error) === 304) return;
      const reason = engineReason(error);
      if (goneUnderUs(error)) throw new ContainerGoneError(`container ${id} is gone`, error);
      if (/paused/i.test(reason)) {
        // Paused behind the controller's back (docker pause): resuming it is the repair.
        await this.docker.getContainer(id).unpause();
        return;
      }
      if (taskLeftBehind(reason)) {
        // The container cannot start again; its data is in the volume, so a new one replaces it.
        await this.removeContainer(id);
        throw new ContainerGoneError(
          `container ${id} was left unstartable by an engine restart and was removed`,
          error,
        );
      }
      if (portTaken(reason)) {
        const address = hostAddressIn(reason);
        const what = address === null ? 'the external port' : `host port ${address}`;
        throw new RuntimeError(
          `${what} is already taken by another container or program; ` +
            `free it or choose another externalPort (${reason})`,
          { terminal: true, cause: error },
        );
      }
      this.rethrow(error, 'starting the container failed');
    }
  }

  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    try {
      await this.docker.getContainer(id).stop({ t: timeoutSeconds });
    } catch (error) {
      const status = statusOf(error);
      if (status === 304 || status === 404) return;
      this.rethrow(error, 'stopping the container failed');
    }
  }

  async restartContainer(id: string, timeoutSeconds: number): Promise<void> {
    try {
      await this.docker.getContainer(id).restart({ t: timeoutSeconds });
    } catch (error) {
      if (goneUnderUs(error)) throw new ContainerGoneError(`container ${id} is gone`, error);
      this.rethrow(error, 'restarting the container failed');
    }
  }

  async removeContainer(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).remove({ force: true });
    } catch (error) {
      const status = statusOf(error);
      // 409: a removal already in progress, which ends where we want to be.
      if (status === 404 || (status === 409 && /in progress/i.test(engineReason(error)))) return;
      this.rethrow(error, 'removing the container failed');
    }
  }

  async setPassword(
    id: string,
    operator: { user: string; password: string },
    newPassword: string,
  ): Promise<void> {
    let run: RedisCliRun;
    try {
      // -x: the last argument, the new password, is read from stdin.
      run = await runRedisCli(
        this.docker.getContainer(id),
        ['--user', operator.user, '-x', 'CONFIG', 'SET', 'requirepass'],
        { auth: operator.password, stdin: newPassword },
      );
    } catch (error) {
      this.rethrow(error, 'changing the password in the running Redis failed');
    }
    if (run.exitCode !== 0 || run.output !== 'OK') {
      const shown = run.output
        .split(newPassword)
        .join('[redacted]')
        .split(operator.password)
        .join('');
      throw new RuntimeError(`changing the password in the running Redis failed: ${shown}`);
    }
  }

  async writeConfig(id: string, configText: string): Promise<void> {
    try {
      await this.docker.getContainer(id).putArchive(configArchive(configText), { path: '/etc' });
    } catch (error) {
      if (goneUnderUs(error) || (statusOf(error) === 404 && (await this.isGoing(id)))) {
        throw new ContainerGoneError(`container ${id} is gone`, error);
      }
      // The archive holds the password: say only that writing it failed.
      this.rethrow(error, 'writing the Redis config into the container failed');
    }
  }

  /** True when the container is absent or being torn down, as opposed to merely lacking a path. */
  private async isGoing(id: string): Promise<boolean> {
    try {
      const { State } = await this.docker.getContainer(id).inspect();
      return State.Status === 'removing' || State.Status === 'dead';
    } catch (error) {
      if (statusOf(error) === 404) return true;
      this.rethrow(error, 'inspecting the container failed');
    }
  }

  async ping(id: string, password: string): Promise<PingResult> {
    try {
      const run = await runRedisCli(this.docker.getContainer(id), ['PING'], { auth: password });
      const output = run.output.split(password).join('[redacted]');
      return { ok: run.exitCode === 0 && output === 'PONG', output };
    } catch (error) {
      const status = statusOf(error);
      // 409: not running (yet, or any more); the caller looks at the state and tries again.
      if (status === 409 || status === 404) return { ok: false, output: engineReason(error) };
      this.rethrow(error, 'running redis-cli in the container failed');
    }
  }

  async logs(id: string, tail: number, sinceSeconds?: number): Promise<string> {
    try {
      const raw = (await this.docker.getContainer(id).logs({
        stdout: true,
        stderr: true,
        tail,
        follow: false,
        ...(sinceSeconds !== undefined && { since: sinceSeconds }),
      })) as unknown as Buffer;
      return demux(raw);
    } catch (error) {
      if (statusOf(error) === 404) return '';
      this.rethrow(error, 'reading the container log failed');
    }
  }
}
