/**
 * The reconcile loop: store changes and a periodic resync feed a work queue; a few workers take
 * keys from it and reconcile them, retrying failures with backoff.
 */
import type { Logger } from '../logger.js';
import type { Runtime } from '../runtime/types.js';
import type { Store } from '../store/store.js';
import { WorkQueue } from './queue.js';
import type { Reconciler } from './reconciler.js';

export interface ControllerOptions {
  store: Store;
  /** The runtime's change feed; events wake the affected record at once. */
  runtime?: Pick<Runtime, 'watch' | 'listManagedContainers'>;
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
          this.queue.add(redisId);
        },
        onResync: () => this.resync(),
        onDisconnect: (error) =>
          log.warn({ err: error }, 'runtime events stream lost; reconnecting'),
      }) ?? null;
    this.resync();
    this.resyncTimer = setInterval(() => this.resync(), this.options.resyncIntervalMs);
    this.resyncTimer.unref();
    for (let index = 0; index < this.options.workers; index++) {
      this.workers.push(this.work());
    }
    this.options.logger.info({ workers: this.options.workers }, 'controller started');
  }

  /**
   * Enqueues every record, and every record id found on a managed container (so containers
   * whose record is gone get collected): the safety net for any change the events missed.
   */
  resync(): void {
    const known = new Set(this.options.store.redis.listIds());
    for (const redisId of known) this.queue.add(redisId);
    this.options.runtime?.listManagedContainers().then(
      (containers) => {
        for (const container of containers) {
          if (container.redisId && !known.has(container.redisId)) this.queue.add(container.redisId);
        }
      },
      (error: unknown) => this.options.logger.warn({ err: error }, 'listing containers failed'),
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
        this.options.logger.error({ err: error, redisId, retryInMs }, 'reconcile failed');
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
