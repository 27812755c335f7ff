/**
 * The reconcile loop: store changes and a periodic resync feed a work queue; a few workers take
 * keys from it and reconcile them, retrying failures with backoff.
 */
import type { Logger } from '../logger.js';
import { type ObservedContainer, type Runtime, RuntimeError } from '../runtime/types.js';
import type { Store } from '../store/store.js';
import type { ObservationCache } from './cache.js';
import { WorkQueue } from './queue.js';
import type { Reconciler } from './reconciler.js';

export interface ControllerOptions {
  store: Store;
  /** The runtime's change feed; events wake the affected record at once. */
  runtime?: Pick<Runtime, 'watch' | 'listManagedContainers'>;
  /** Filled by each resync's listing and emptied per record by runtime events. */
  cache?: ObservationCache;
  reconciler: Pick<Reconciler, 'reconcile'>;
  logger: Logger;
  workers: number;
  resyncIntervalMs: number;
  /** First retry delay after a failed reconcile; doubles per failure up to `maxBackoffMs`. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
}

export class Controller {
  readonly queue: WorkQueue;
  private workers: Promise<void>[] = [];
  private resyncTimer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  private unwatch: (() => void) | null = null;
  private idleWaiters: (() => void)[] = [];
  /** Aborted on stop, so a reconcile waiting for readiness ends its wait. */
  private readonly stopping = new AbortController();
  private busy = 0;

  constructor(private readonly options: ControllerOptions) {
    this.queue = new WorkQueue({
      baseDelayMs: options.baseBackoffMs ?? 500,
      maxDelayMs: options.maxBackoffMs ?? 60_000,
    });
  }

  start(): void {
    this.unsubscribe = this.options.store.onRedisChange((redisId) => this.queue.add(redisId));
    const log = this.options.logger;
    this.unwatch =
      this.options.runtime?.watch({
        onChange: (redisId, action) => {
          log.debug({ redisId, action }, 'runtime event');
          this.options.cache?.invalidate(redisId);
          this.queue.add(redisId);
        },
        onResync: () => this.resyncInBackground(),
        onDisconnect: (error) =>
          log.warn(
            { reason: error instanceof Error ? error.message : String(error) },
            'runtime events stream lost; reconnecting until it is back',
          ),
      }) ?? null;
    // With a runtime, its events stream resyncs as soon as it connects; a second pass at start
    // would list everything twice.
    if (!this.options.runtime) this.resyncInBackground();
    this.resyncTimer = setInterval(() => this.resyncInBackground(), this.options.resyncIntervalMs);
    this.resyncTimer.unref();
    for (let index = 0; index < this.options.workers; index++) {
      this.workers.push(this.work());
    }
    this.options.logger.info({ workers: this.options.workers }, 'controller started');
  }

  /**
   * Lists what the runtime holds (one call, whatever the number of records), then enqueues
   * every record, and every record id found on a container, so containers whose record is gone
   * get collected. The safety net for any change the events missed.
   */
  async resync(): Promise<void> {
    const runtime = this.options.runtime;
    let containers: ObservedContainer[] = [];
    if (runtime) {
      try {
        containers = await runtime.listManagedContainers();
        this.options.cache?.replace(containers);
      } catch (error) {
        this.options.logger.warn({ err: error }, 'listing the runtime failed; resyncing anyway');
      }
    }
    // Stopped while the listing was under way: the store may be closed already.
    if (this.stopping.signal.aborted) return;
    const known = new Set(this.options.store.redis.listIds());
    for (const redisId of known) this.queue.add(redisId);
    for (const container of containers) {
      if (container.redisId && !known.has(container.redisId)) this.queue.add(container.redisId);
    }
  }

  /** A resync nobody waits for: a failure is logged, never left to end the process. */
  private resyncInBackground(): void {
    this.resync().catch((error: unknown) =>
      this.options.logger.error({ err: error }, 'resync failed; the next one tries again'),
    );
  }

  /** Stops taking work and waits for the reconciles in flight to finish their current step. */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unwatch?.();
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    this.queue.shutDown();
    this.stopping.abort();
    await Promise.all(this.workers);
    this.workers = [];
  }

  /** Resolves once no key is queued or being reconciled (delayed retries do not count). */
  whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private isIdle(): boolean {
    return this.busy === 0 && this.queue.length === 0;
  }

  private async work(): Promise<void> {
    for (;;) {
      const redisId = await this.queue.get();
      if (redisId === null) return;
      this.busy++;
      try {
        const result = await this.options.reconciler.reconcile(redisId, this.stopping.signal);
        this.queue.forget(redisId);
        if (result.requeueAfterMs !== undefined) {
          this.queue.addAfter(redisId, result.requeueAfterMs);
        }
      } catch (error) {
        const retryInMs = this.queue.addRateLimited(redisId);
        if (error instanceof RuntimeError) {
          // Expected on the way (an engine away, an image not pulled yet) and shown in status:
          // one line says it, without a stack trace at every retry.
          this.options.logger.warn(
            { reason: error.message, redisId, retryInMs },
            'reconcile failed; retrying',
          );
        } else {
          this.options.logger.error({ err: error, redisId, retryInMs }, 'reconcile failed');
        }
      } finally {
        this.busy--;
        this.queue.done(redisId);
        if (this.isIdle()) this.notifyIdle();
      }
    }
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
