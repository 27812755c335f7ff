/**
 * Writing a record's status: phase, conditions, endpoint and the bookkeeping of what was applied.
 * Only the reconciler reports, and only through here.
 */
import {
  type ApplicationStatus,
  type Endpoint,
  type RedisRecord,
  type RedisStatus,
  redisUrl,
  stallPointOf,
} from '../domain/redis.js';
import { type ObservedContainer, RuntimeError } from '../runtime/types.js';
import type { Store } from '../store/store.js';
import { type ConditionUpdate, isTrue, setConditions } from './conditions.js';
import type { Outcome } from './plan.js';

/** Said of a failure that left the running container serving the previous spec. */
const KEPT_SERVING = '; the running container was left as it was';

export interface StatusReporterOptions {
  store: Store;
  now: () => Date;
  /** The host clients reach the record's published port on. */
  publicHostOf: (record: RedisRecord) => string;
  /** Keyed fingerprint of the record's current password. */
  fingerprint: (record: RedisRecord) => string;
}

export class StatusReporter {
  private readonly store: Store;
  private readonly now: () => Date;
  private readonly publicHostOf: (record: RedisRecord) => string;
  private readonly fingerprint: (record: RedisRecord) => string;

  constructor(options: StatusReporterOptions) {
    this.store = options.store;
    this.now = options.now;
    this.publicHostOf = options.publicHostOf;
    this.fingerprint = options.fingerprint;
  }

  markRequestsApplied(record: RedisRecord): void {
    const current = this.store.redis.findIncludingDeleted(record.redisId);
    if (!current) return;
    this.store.redis.writeStatus(record.redisId, {
      ...current.status,
      appliedDeployRequests: record.deployRequests,
      appliedRestartRequests: record.restartRequests,
      appliedRebuildRequests: record.rebuildRequests,
    });
  }

  /**
   * A container that should run but does not: not Ready any more, whatever comes next. `stalled`:
   * the record is not retried after a terminal failure; lastError keeps that reason, and the
   * conditions say both.
   */
  reportNotRunning(
    record: RedisRecord,
    container: ObservedContainer | null,
    { stalled = false }: { stalled?: boolean } = {},
  ): void {
    if (!isTrue(record.status.conditions, 'Ready')) return;
    let message = 'the container is gone';
    if (container) {
      const oom = container.oomKilled ? ', killed for running out of memory' : '';
      message = `the container is ${container.state} (exit code ${container.exitCode}${oom})`;
    }
    const why = stalled ? (record.status.lastError ?? '').replace(KEPT_SERVING, '') : null;
    if (why !== null) message += `; not started again until the spec changes: ${why}`;
    const status: RedisStatus = {
      ...record.status,
      phase: 'Failed',
      lastError: why ?? message,
      restartCount: Math.max(record.status.restartCount, container?.restartCount ?? 0),
      conditions: setConditions(
        record.status.conditions,
        [
          { type: 'Ready', status: 'False', reason: 'ContainerNotRunning', message },
          { type: 'Progressing', status: 'False', reason: 'ContainerNotRunning', message },
          { type: 'Degraded', status: 'True', reason: 'ContainerNotRunning', message },
        ],
        this.now(),
      ),
    };
    this.store.redis.writeStatus(record.redisId, status, 'error');
  }

  /**
   * The container of a stalled record runs and answers PING again, on the spec it was made
   * from.
   */
  reportKeptServing(record: RedisRecord, container: ObservedContainer): void {
    const message = 'Redis answers PING, on the spec it was made from';
    const why = record.status.lastError ?? '';
    const status: RedisStatus = {
      ...record.status,
      containerId: container.id,
      containerStartedAt: container.startedAt,
      conditions: setConditions(
        record.status.conditions,
        [
          { type: 'Ready', status: 'True', reason: 'PingAnswered', message },
          { type: 'Progressing', status: 'False', reason: 'TerminalError', message: why },
          { type: 'Degraded', status: 'True', reason: 'TerminalError', message: why },
        ],
        this.now(),
      ),
    };
    this.store.redis.writeStatus(record.redisId, status);
  }

  /**
   * A change is being applied. `readyLost` once it stops or replaces the container: Redis is not
   * serving until the readiness check says so again. Before that (checking the settings, pulling
   * the image) a running container goes on serving, and Ready stays as it was.
   */
  reportProgress(record: RedisRecord, { readyLost }: { readyLost: boolean }): void {
    const current = this.store.redis.findIncludingDeleted(record.redisId);
    if (!current) return;
    const updates: ConditionUpdate[] = [
      { type: 'Progressing', status: 'True', reason: 'Deploying', message: 'Applying the spec' },
    ];
    if (readyLost) {
      updates.push({
        type: 'Ready',
        status: 'False',
        reason: 'Deploying',
        message: 'Redis is being started or replaced',
      });
    }
    const status: RedisStatus = {
      ...current.status,
      phase: 'Deploying',
      conditions: setConditions(current.status.conditions, updates, this.now()),
    };
    this.store.redis.writeStatus(record.redisId, status, 'running');
  }

  reportSuccess(
    record: RedisRecord,
    outcome: Outcome,
    container: ObservedContainer | null,
    changed: boolean,
  ): void {
    const current = this.store.redis.findIncludingDeleted(record.redisId);
    if (!current) return;
    const previous = current.status;
    const now = this.now();
    const { phase, applicationStatus, conditions } = summarise(outcome);

    const status: RedisStatus = {
      ...previous,
      phase,
      observedGeneration: record.generation,
      conditions: setConditions(previous.conditions, conditions, now),
      containerId: container?.id ?? null,
      containerStartedAt: container?.startedAt ?? null,
      endpoint: outcome === 'running' ? this.endpoint(record) : null,
      lastError: null,
      restartCount: container?.restartCount ?? previous.restartCount,
      lastReconciledAt: now.toISOString(),
      appliedDeployRequests: record.deployRequests,
      appliedRestartRequests: record.restartRequests,
      appliedRebuildRequests: record.rebuildRequests,
      appliedPasswordFingerprint: container ? this.fingerprint(record) : null,
      stalledAt: null,
    };
    // A status set by changeStatus stays until a real transition replaces it.
    const transition = changed || previous.phase !== phase;
    this.store.redis.writeStatus(
      record.redisId,
      status,
      transition ? applicationStatus : undefined,
    );
  }

  /**
   * The reconcile failed. `terminal`: retrying cannot help until the spec or a request changes.
   * `keptServing`: it failed before the running container was touched, so that one still serves
   * the previous spec and Ready stays as it was. `container`: the record's container as seen
   * after the failure (null: none), when it was looked at.
   */
  reportFailure(
    record: RedisRecord,
    error: unknown,
    {
      terminal,
      keptServing = false,
      container,
    }: { terminal: boolean; keptServing?: boolean; container?: ObservedContainer | null },
  ): void {
    const current = this.store.redis.findIncludingDeleted(record.redisId);
    if (!current) return;
    let message = error instanceof Error ? error.message : String(error);
    if (keptServing) message += KEPT_SERVING;
    let reason = error instanceof RuntimeError ? 'RuntimeError' : 'InternalError';
    if (terminal) reason = 'TerminalError';
    const updates: ConditionUpdate[] = [
      { type: 'Progressing', status: 'False', reason, message },
      { type: 'Degraded', status: 'True', reason, message },
    ];
    if (!keptServing) updates.push({ type: 'Ready', status: 'False', reason, message });
    const status: RedisStatus = {
      ...current.status,
      stalledAt: terminal ? stallPointOf(record) : null,
      // A terminal failure is the answer to this generation; a passing one is not yet.
      observedGeneration: terminal ? record.generation : current.status.observedGeneration,
      phase: current.deletionRequestedAt ? 'Deleting' : 'Failed',
      ...(container !== undefined && {
        containerId: container?.id ?? null,
        containerStartedAt: container?.startedAt ?? null,
        restartCount: container?.restartCount ?? current.status.restartCount,
      }),
      lastError: message,
      lastReconciledAt: this.now().toISOString(),
      conditions: setConditions(current.status.conditions, updates, this.now()),
    };
    this.store.redis.writeStatus(record.redisId, status, 'error');
  }

  private endpoint(record: RedisRecord): Endpoint | null {
    if (record.externalPort === null) return null;
    const host = this.publicHostOf(record);
    return { host, port: record.externalPort, url: redisUrl(host, record.externalPort, '') };
  }
}

/** Conditions of a record at rest: Ready as given, neither progressing nor degraded. */
function settled(ready: Omit<ConditionUpdate, 'type'>, reason: string, message: string) {
  return [
    { type: 'Ready', ...ready },
    { type: 'Progressing', status: 'False', reason, message },
    { type: 'Degraded', status: 'False', reason, message },
  ] satisfies ConditionUpdate[];
}

function summarise(outcome: Outcome): {
  phase: RedisStatus['phase'];
  applicationStatus: ApplicationStatus;
  conditions: ConditionUpdate[];
} {
  switch (outcome) {
    case 'running':
      return {
        phase: 'Running',
        applicationStatus: 'done',
        conditions: settled(
          { status: 'True', reason: 'PingAnswered', message: 'Redis answers PING' },
          'Reconciled',
          'Up to date',
        ),
      };
    case 'stopped':
      return {
        phase: 'Stopped',
        applicationStatus: 'idle',
        conditions: settled(
          { status: 'False', reason: 'Stopped', message: 'Stopped on request' },
          'Reconciled',
          'Up to date',
        ),
      };
    case 'undeployed':
    case 'deleted':
      return {
        phase: 'Pending',
        applicationStatus: 'idle',
        conditions: settled(
          { status: 'False', reason: 'NotDeployed', message: 'Not deployed yet' },
          'NotDeployed',
          'Not deployed yet',
        ),
      };
  }
}
