/**
 * What the controller last saw of the runtime, so an idle resync costs one list call instead
 * of several calls per record. A record is served from here only while it is "verified": fully
 * reconciled by this process, with no runtime event about it since, and still looking the same
 * in the latest listing. Anything else sends the reconciler to the engine.
 */
import type { ObservedContainer } from '../runtime/types.js';

export class ObservationCache {
  private containers = new Map<string, ObservedContainer>();
  private listed = false;
  /** Record id → the container id it was verified with (null: verified to have none). */
  private readonly verified = new Map<string, string | null>();

  /** Replaces the listing with a fresh one, taken at a resync. */
  replace(containers: readonly ObservedContainer[]): void {
    this.containers = new Map(
      containers.filter((c) => c.redisId !== null).map((c) => [c.redisId as string, c]),
    );
    this.listed = true;
  }

  /** The runtime reported a change for this record: ask the engine next time. */
  invalidate(redisId: string): void {
    this.verified.delete(redisId);
  }

  /** A full reconcile of the record just succeeded with this container (or none). */
  markVerified(redisId: string, containerId: string | null): void {
    this.verified.set(redisId, containerId);
  }

  /**
   * The record's container as last listed (null: none), or undefined when the engine must be
   * asked.
   */
  view(redisId: string): ObservedContainer | null | undefined {
    if (!this.listed || !this.verified.has(redisId)) return undefined;
    const container = this.containers.get(redisId) ?? null;
    if ((container?.id ?? null) !== this.verified.get(redisId)) return undefined;
    return container;
  }
}
