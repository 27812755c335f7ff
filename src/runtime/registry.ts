/**
 * One runtime per Docker server: the local engine for records without a server, and one
 * client per server record, made on first use. It also presents all of them as one source of
 * events and listings, so the reconcile loop need not know how many there are.
 */
import type { Store } from '../store/store.js';
import { DockerRuntime } from './docker/runtime.js';
import type { ObservedContainer, Runtime, RuntimeWatcher } from './types.js';

export class RuntimeRegistry {
  private readonly runtimes = new Map<string, Runtime>();
  /** In practice one: the controller's. */
  private readonly watchers = new Set<RuntimeWatcher>();
  private readonly unwatchers = new Map<string, () => void>();

  constructor(
    private readonly store: Store,
    private readonly local: Runtime,
    private readonly ownerId: string,
  ) {}

  /**
   * The runtime of a server; null is the local engine. Throws "Server not found". Its client
   * is made once and kept until the server is updated or removed (see `forget`): the
   * reconciler asks for it on every step and every readiness probe.
   */
  for(serverId: string | null): Runtime {
    if (serverId === null) return this.local;
    const known = this.runtimes.get(serverId);
    if (known) return known;

    const server = this.store.servers.find(serverId);
    const runtime = new DockerRuntime({
      dockerHost: server.dockerHost,
      ownerId: this.ownerId,
      credentials: {
        ...server,
        pinSshHostKey: (pin) => this.store.servers.pinHostKey(serverId, server.dockerHost, pin),
      },
    });
    this.runtimes.set(serverId, runtime);
    for (const watcher of this.watchers) this.unwatchers.set(serverId, runtime.watch(watcher));
    return runtime;
  }

  /** Every runtime in use: the local one and one per server. */
  all(): Runtime[] {
    for (const server of this.store.servers.list()) this.for(server.serverId);
    return [this.local, ...this.runtimes.values()];
  }

  /** Forgets an updated or removed server's client and stops following its events. */
  forget(serverId: string): void {
    this.unwatchers.get(serverId)?.();
    this.unwatchers.delete(serverId);
    this.runtimes.delete(serverId);
  }

  /** Follows every runtime, including servers added later, until the returned call. */
  watch(watcher: RuntimeWatcher): () => void {
    this.watchers.add(watcher);
    const stopLocal = this.local.watch(watcher);
    for (const [serverId, runtime] of this.runtimes) {
      this.unwatchers.set(serverId, runtime.watch(watcher));
    }
    // Servers not used yet get their client now; `for` subscribes each to the watchers.
    this.all();
    return () => {
      this.watchers.delete(watcher);
      stopLocal();
      for (const stop of this.unwatchers.values()) stop();
      this.unwatchers.clear();
    };
  }

  /** Containers of every server; a server that cannot be reached is skipped, not fatal. */
  async listManagedContainers(): Promise<ObservedContainer[]> {
    const lists = await Promise.allSettled(this.all().map((r) => r.listManagedContainers()));
    return lists.flatMap((list) => (list.status === 'fulfilled' ? list.value : []));
  }
}
