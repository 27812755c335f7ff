/**
 * What the controller last saw of the runtime, so an idle resync costs two list calls instead
 * of several calls per record. A record is served from here only while it is "verified": fully
 * reconciled by this process, with no runtime event about it since, and still looking the same
 * in the latest listing. Anything else sends the reconciler to the engine.
 */
import type { ObservedContainer } from '../runtime/types.js';

export interface CachedView {
  container: ObservedContainer | null;
  volumeExists: boolean;
}

export class ObservationCache {
  private containers = new Map<string, ObservedContainer>();
  private volumes = new Set<string>();
  private listed = false;
  /** Record id → the container id it was verified with (null: verified to have none). */
  private readonly verified = new Map<string, string | null>();

  /** Replaces the listing with a fresh one, taken at a resync. */
  replace(containers: readonly ObservedContainer[], volumeNames: readonly string[]): void {
    this.containers = new Map(
      containers.filter((c) => c.redisId !== null).map((c) => [c.redisId as string, c]),
    );
    this.volumes = new Set(volumeNames);
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

  /** The cached view, or undefined when the engine must be asked. */
  view(redisId: string, volumeName: string): CachedView | undefined {
    if (!this.listed || !this.verified.has(redisId)) return undefined;
    const container = this.containers.get(redisId) ?? null;
    if ((container?.id ?? null) !== this.verified.get(redisId)) return undefined;
    return { container, volumeExists: this.volumes.has(volumeName) };
  }
}
