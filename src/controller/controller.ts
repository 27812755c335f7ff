/**
 * The reconcile loop: store changes and a periodic resync feed a work queue; a few workers take
 * keys from it and reconcile them, retrying failures with backoff.
 */
import type { Logger } from '../logger.js';
import type { Store } from '../store/store.js';
import { WorkQueue } from './queue.js';
import type { Reconciler } from './reconciler.js';

export interface ControllerOptions {
  store: Store;
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
  private idleWaiters: (() => void)[] = [];
  private busy = 0;

  constructor(private readonly options: ControllerOptions) {
    this.queue = new WorkQueue({
      baseDelayMs: options.baseBackoffMs ?? 500,
      maxDelayMs: options.maxBackoffMs ?? 60_000,
    });
  }

  start(): void {
    this.unsubscribe = this.options.store.onRedisChange((redisId) => this.queue.add(redisId));
    this.resync();
    this.resyncTimer = setInterval(() => this.resync(), this.options.resyncIntervalMs);
    this.resyncTimer.unref();
    for (let index = 0; index < this.options.workers; index++) {
      this.workers.push(this.work());
    }
    this.options.logger.info({ workers: this.options.workers }, 'controller started');
  }

  /** Enqueues every record, the safety net for any change the events missed. */
  resync(): void {
    for (const redisId of this.options.store.redis.listIds()) this.queue.add(redisId);
  }

  /** Stops taking work and waits for the reconciles in flight to finish their current step. */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    this.queue.shutDown();
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
        const result = await this.options.reconciler.reconcile(redisId);
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
