/**
 * One reconcile: read the record and the runtime afresh, plan, carry the plan out, report.
 * It never trusts whatever woke it; the same call repairs drift, finishes requests and retries.
 */
import { randomUUID } from 'node:crypto';
import { type RedisRecord, stallPointOf } from '../domain/redis.js';
import { serverPublicHost } from '../domain/server.js';
import type { Logger } from '../logger.js';
import {
  ContainerGoneError,
  ForeignVolumeError,
  type InstanceSpec,
  type ObservedContainer,
  type Runtime,
  RuntimeError,
} from '../runtime/types.js';
import type { Store } from '../store/store.js';
import type { ObservationCache } from './cache.js';
import { isTrue } from './conditions.js';
import {
  buildInstanceSpec,
  driftOf,
  OPERATOR_USER,
  operatorPassword,
  passwordFingerprint,
} from './instance.js';
import {
  changesRuntime,
  type DesiredView,
  isPreparation,
  type Plan,
  plan,
  type Step,
} from './plan.js';
import { Superseded, waitReady } from './readiness.js';
import { StatusReporter } from './status.js';

/** Where each record's containers live: the local engine or one of the servers. */
export interface RuntimeSource {
  for(serverId: string | null): Runtime;
  all(): Runtime[];
}

export interface ReconcilerOptions {
  store: Store;
  runtimes: RuntimeSource;
  logger: Logger;
  publishHost: string;
  stopTimeoutSeconds: number;
  readyTimeoutMs: number;
  /** What the last resync listed; lets an idle record be checked without engine calls. */
  cache?: ObservationCache;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
}

export interface ReconcileResult {
  /** Reconcile again after this long even without a change (for example, waiting on another). */
  requeueAfterMs?: number;
}

/** How far a plan got; a failure before the running container was touched leaves it serving. */
interface Progress {
  /** The record's container was running when the plan began. */
  serving: boolean;
  /** A step past the preparation (settings, image, a new password) has begun. */
  replacing: boolean;
}

/** Wait before looking again when the container vanished under a call. */
const GONE_RETRY_MS = 100;

/** Wait before looking again when the container name is still held by a record being removed. */
const NAME_HELD_RETRY_MS = 1000;

interface Digests {
  generation: number;
  specHash: string;
  fingerprint: string;
}

const defaultSleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

export class Reconciler {
  private readonly now: () => Date;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly hashKey: Buffer;
  private readonly report: StatusReporter;
  private readonly digests = new Map<string, Digests>();

  constructor(private readonly options: ReconcilerOptions) {
    this.now = options.now ?? (() => new Date());
    this.sleep = options.sleep ?? defaultSleep;
    this.hashKey = options.store.secrets.derive('spec-hash');
    this.report = new StatusReporter({
      store: options.store,
      now: this.now,
      publicHostOf: (record) => {
        if (record.serverId) return serverPublicHost(options.store.servers.find(record.serverId));
        const wildcard = ['0.0.0.0', '::', ''].includes(options.publishHost);
        return wildcard ? '127.0.0.1' : options.publishHost;
      },
      fingerprint: (record) => this.fingerprint(record),
    });
  }

  async reconcile(redisId: string, signal?: AbortSignal): Promise<ReconcileResult> {
    const record = this.options.store.redis.findIncludingDeleted(redisId);
    if (!record) {
      this.digests.delete(redisId);
      await this.removeOrphans(redisId);
      return {};
    }
    const deleting = record.deletionRequestedAt !== null;
    // Never deployed and not being removed: there is nothing to look at, but the status still
    // answers the latest generation (a reload of an undeployed database has nothing to do).
    if (!deleting && record.desiredState === 'undeployed') {
      if (record.status.observedGeneration !== record.generation) {
        this.report.reportSuccess(record, 'undeployed', null, false);
      }
      return {};
    }

    const stalled = record.status.stalledAt;
    if (stalled && JSON.stringify(stalled) === JSON.stringify(stallPointOf(record))) {
      // Not retried, but a container kept serving through the failure is still watched.
      if (record.status.containerId !== null) await this.watchKept(record);
      return {};
    }

    const digests = this.digestsOf(record);
    const desired: DesiredView = {
      deleting,
      desiredState: record.desiredState,
      generation: record.generation,
      specHash: digests.specHash,
      deployPending: record.deployRequests > record.status.appliedDeployRequests,
      restartPending: record.restartRequests > record.status.appliedRestartRequests,
      rebuildPending: record.rebuildRequests > record.status.appliedRebuildRequests,
      passwordPending:
        record.status.appliedPasswordFingerprint !== null &&
        record.status.appliedPasswordFingerprint !== digests.fingerprint,
    };
    if (this.unchangedSinceVerified(record, desired)) return {};

    const log = this.options.logger.child({
      redisId,
      appName: record.appName,
      reconcileId: randomUUID(),
    });
    const spec = this.instanceSpec(record);
    const progress: Progress = { serving: false, replacing: false };

    try {
      const container = await this.ownContainer(record);
      if (container === 'held') return { requeueAfterMs: NAME_HELD_RETRY_MS };
      progress.serving = container?.state === 'running';
      if (container && container.state !== 'running' && record.desiredState === 'running') {
        this.report.reportNotRunning(record, container);
      }

      const volumeExists = await this.volumeExists(record, spec.volumeName);
      // Only a container made from the current spec can have drifted; any other is replaced
      // for the spec change anyway.
      const drift =
        container?.actual && container.specHash === spec.specHash
          ? driftOf(spec, container.actual)
          : [];
      if (drift.length > 0) log.info({ drift }, 'container changed outside the controller');
      const decided = plan(desired, {
        // A drifted container no longer matches its label; plan sees it as a spec change.
        container: container && drift.length > 0 ? { ...container, specHash: null } : container,
        volumeExists,
        knownReady:
          container !== null &&
          record.status.containerId === container.id &&
          record.status.containerStartedAt === container.startedAt &&
          isTrue(record.status.conditions, 'Ready'),
      });
      if (decided.steps.length > 0) log.debug({ steps: decided.steps }, 'reconcile plan');

      const containerId = await this.execute(record, spec, decided, progress, {
        observedId: container?.id ?? null,
        log,
        signal,
      });
      if (decided.outcome !== 'deleted')
        this.options.cache?.markVerified(record.redisId, containerId);
      return {};
    } catch (error) {
      this.options.cache?.invalidate(record.redisId);
      if (error instanceof Superseded) return { requeueAfterMs: 0 };
      if (error instanceof ContainerGoneError) {
        log.info({ reason: error.message }, 'the container went away meanwhile; looking again');
        return { requeueAfterMs: GONE_RETRY_MS };
      }
      const terminal = error instanceof RuntimeError && error.terminal;
      this.report.reportFailure(record, error, {
        terminal,
        keptServing: progress.serving && !progress.replacing,
        // The container may have been replaced before the failure: status names the one there.
        container: progress.replacing ? await this.observeQuietly(record) : undefined,
      });
      if (!terminal) throw error;
      log.error(
        { reason: (error as RuntimeError).message },
        'reconcile failed; not retrying until the spec or a request changes',
      );
      return {};
    }
  }

  /** The record's container, or undefined when the engine cannot tell now. */
  private async observeQuietly(record: RedisRecord): Promise<ObservedContainer | null | undefined> {
    try {
      return await this.runtimeOf(record).findContainer(record.appName);
    } catch {
      return undefined;
    }
  }

  /**
   * Keeps Ready true to the container of a record stalled by a terminal failure: False once it
   * is gone or stops, True again once it runs and answers PING (started by hand, say).
   */
  private async watchKept(record: RedisRecord): Promise<void> {
    const container = await this.observeQuietly(record);
    // Undefined: the engine cannot tell now; the next event or resync asks again.
    if (container === undefined) return;
    if (container?.state !== 'running') {
      this.report.reportNotRunning(record, container, { stalled: true });
      return;
    }
    if (isTrue(record.status.conditions, 'Ready')) return;
    const ping = await this.runtimeOf(record)
      .ping(container.id, record.databasePassword)
      .catch(() => null);
    if (ping?.ok) this.report.reportKeptServing(record, container);
  }

  /**
   * Removes containers labelled with a record that no longer exists. Their volume is kept: only
   * a user's remove deletes data, and that removes the volume before the record.
   */
  private async removeOrphans(redisId: string): Promise<void> {
    for (const runtime of this.options.runtimes.all()) {
      // An engine that cannot be reached now is skipped: its containers are listed, and this
      // record looked at again, by the first resync that reaches it.
      const containers = await runtime.listManagedContainers().catch(() => []);
      for (const container of containers) {
        if (container.redisId !== redisId) continue;
        this.options.logger.info(
          { redisId, containerId: container.id, name: container.name },
          'removing a managed container whose record is gone',
        );
        await runtime.removeContainer(container.id);
      }
    }
  }

  /**
   * The record's own container. A container with the record's name but another record's id is
   * either left by a record already purged (removed here) or still held by one being removed
   * ('held': wait for it).
   */
  private async ownContainer(record: RedisRecord): Promise<ObservedContainer | null | 'held'> {
    const container = await this.runtimeOf(record).findContainer(record.appName);
    if (!container || container.redisId === record.redisId) return container;

    const holder = container.redisId
      ? this.options.store.redis.findIncludingDeleted(container.redisId)
      : null;
    if (holder && holder.appName === record.appName) return 'held';
    await this.runtimeOf(record).removeContainer(container.id);
    return null;
  }

  private async execute(
    record: RedisRecord,
    spec: InstanceSpec,
    decided: Plan,
    progress: Progress,
    context: { observedId: string | null; log: Logger; signal: AbortSignal | undefined },
  ): Promise<string | null> {
    const { log, signal } = context;
    const runtime = this.runtimeOf(record);
    const changing = changesRuntime(decided.steps);
    const reporting = changing && decided.outcome === 'running';
    let reported = false;

    let containerId = context.observedId;
    for (const step of decided.steps) {
      // Shutting down: the step in flight finishes, no later one begins.
      if (signal?.aborted) throw new Superseded();
      // Progressing from the first step; Ready goes False only once the container is touched.
      const replacing = !isPreparation(step) || !progress.serving;
      if (reporting && (!reported || (replacing && !progress.replacing))) {
        this.report.reportProgress(record, { readyLost: replacing });
        reported = true;
      }
      if (replacing) progress.replacing = true;
      // The requests are carried out once the runtime has been changed; waiting for readiness
      // is not part of them, so a slow or failed start is never answered by doing them again.
      if (step.kind === 'waitReady') this.report.markRequestsApplied(record);
      log.debug({ step }, 'reconcile step');
      containerId = await this.runStep(step, record, spec, containerId, signal);
      if (step.kind === 'purgeRecord') return null;
    }

    const observed = containerId ? await runtime.findContainer(record.appName) : null;
    this.report.reportSuccess(record, decided.outcome, observed, changing);
    if (changing) log.info({ outcome: decided.outcome }, 'reconciled');
    return observed?.id ?? null;
  }

  /** Runs one step; returns the container id as it is after the step. */
  private async runStep(
    step: Step,
    record: RedisRecord,
    spec: InstanceSpec,
    containerId: string | null,
    signal: AbortSignal | undefined,
  ): Promise<string | null> {
    const runtime = this.runtimeOf(record);
    const stopTimeout = this.options.stopTimeoutSeconds;
    switch (step.kind) {
      case 'removeContainer':
        if (containerId) {
          // A graceful stop first lets Redis flush its append-only file before removal.
          if (step.reason !== 'rebuild') await runtime.stopContainer(containerId, stopTimeout);
          await runtime.removeContainer(containerId);
        }
        return null;
      case 'removeVolume':
        await runtime.removeVolume(spec.volumeName);
        return containerId;
      case 'checkSettings':
        await runtime.checkSettings(spec);
        return containerId;
      case 'ensureImage':
        if (!(await runtime.imagePresent(spec.image))) await runtime.pullImage(spec.image);
        return containerId;
      case 'ensureVolume':
        await runtime.createVolume(spec.volumeName, record.redisId, record.appName);
        return containerId;
      case 'createContainer':
        return runtime.createContainer(spec);
      case 'startContainer':
        if (containerId) await runtime.startContainer(containerId);
        return containerId;
      case 'stopContainer':
        if (containerId) await runtime.stopContainer(containerId, stopTimeout);
        return containerId;
      case 'restartContainer':
        if (containerId) await runtime.restartContainer(containerId, stopTimeout);
        return containerId;
      case 'applyPassword':
        if (containerId) {
          const operator = {
            user: OPERATOR_USER,
            password: operatorPassword(record.redisId, this.hashKey),
          };
          await runtime.setPassword(containerId, operator, record.databasePassword);
          await runtime.writeConfig(containerId, spec.configText);
        }
        return containerId;
      case 'writeConfig':
        if (containerId) await runtime.writeConfig(containerId, spec.configText);
        return containerId;
      case 'waitReady':
        if (containerId) {
          await waitReady(this.runtimeOf(record), record, containerId, {
            readyTimeoutMs: this.options.readyTimeoutMs,
            sleep: this.sleep,
            giveUp: () => signal?.aborted === true || this.superseded(record),
          });
        }
        return containerId;
      case 'purgeRecord':
        this.options.store.redis.purge(record.redisId);
        return null;
    }
  }

  private runtimeOf(record: RedisRecord): Runtime {
    return this.options.runtimes.for(record.serverId);
  }

  /**
   * True when the cache shows the record exactly as this process last verified it, and the plan
   * for that picture is empty: no engine call is needed.
   */
  private unchangedSinceVerified(record: RedisRecord, desired: DesiredView): boolean {
    // A generation not yet reported is answered by a reconcile, even one with nothing to do.
    if (record.status.observedGeneration !== record.generation) return false;
    const container = this.options.cache?.view(record.redisId);
    if (container === undefined) return false;
    const decided = plan(desired, {
      container: container && {
        id: container.id,
        state: container.state,
        specHash: container.specHash,
        generation: container.generation,
        startedAt: record.status.containerStartedAt,
      },
      // A plan with nothing to do never depends on the volume (the plan tests hold it to
      // that): the volume matters only to create a container or to remove data.
      volumeExists: true,
      knownReady:
        container !== null &&
        record.status.containerId === container.id &&
        isTrue(record.status.conditions, 'Ready'),
    });
    return decided.steps.length === 0;
  }

  /** A volume that is not the record's own is an error, except when removing: then it is left. */
  private async volumeExists(record: RedisRecord, volumeName: string): Promise<boolean> {
    try {
      return await this.runtimeOf(record).volumeExists(volumeName, record.redisId);
    } catch (error) {
      if (error instanceof ForeignVolumeError && record.deletionRequestedAt !== null) return false;
      throw error;
    }
  }

  /** True when the stored record no longer asks for what this reconcile is doing. */
  private superseded(record: RedisRecord): boolean {
    const current = this.options.store.redis.findIncludingDeleted(record.redisId);
    return (
      !current ||
      current.deletionRequestedAt !== null ||
      current.desiredState !== record.desiredState ||
      current.generation !== record.generation
    );
  }

  private fingerprint(record: RedisRecord): string {
    return this.digestsOf(record).fingerprint;
  }

  private instanceSpec(record: RedisRecord): InstanceSpec {
    return buildInstanceSpec(record, {
      publishHost: this.options.publishHost,
      stopTimeoutSeconds: this.options.stopTimeoutSeconds,
      hashKey: this.hashKey,
    });
  }

  /**
   * The record's spec hash and password fingerprint, remembered per generation: every change
   * they depend on moves the generation, and computing them is most of an idle reconcile.
   */
  private digestsOf(record: RedisRecord): Digests {
    const known = this.digests.get(record.redisId);
    if (known && known.generation === record.generation) return known;
    const digests = {
      generation: record.generation,
      specHash: this.instanceSpec(record).specHash,
      fingerprint: passwordFingerprint(record.databasePassword, this.hashKey),
    };
    this.digests.set(record.redisId, digests);
    return digests;
  }
}
