/**
 * The runtime interface: the only way the reconciler touches containers. Docker implements it
 * today; each method states which engine outcomes it treats as success.
 */

/** Labels put on every object the controller creates, so it can find and own them. */
export const LABELS = {
  managedBy: 'dev.redis-controller.managed-by',
  /** The controller instance (its store) that owns the object; two stores never share one. */
  owner: 'dev.redis-controller.owner',
  redisId: 'dev.redis-controller.redis-id',
  appName: 'dev.redis-controller.app-name',
  specHash: 'dev.redis-controller.spec-hash',
  generation: 'dev.redis-controller.generation',
} as const;

export const MANAGED_BY_VALUE = 'redis-controller';

/** Port Redis listens on inside the container. */
export const REDIS_PORT = 6379;

/** Everything needed to create one Redis container. */
export interface InstanceSpec {
  redisId: string;
  appName: string;
  volumeName: string;
  image: string;
  /** Full text of the redis.conf the controller writes into the container before start. */
  configText: string;
  /** argv of the container: the defaults, or the user's command and args. */
  cmd: string[];
  /** `KEY=VALUE` entries; never holds the password. */
  env: string[];
  memoryLimitBytes: number | null;
  memoryReservationBytes: number | null;
  nanoCpus: number | null;
  /** Relative cpu weight derived from the cpu reservation (1024 per cpu), or null. */
  cpuShares: number | null;
  externalPort: number | null;
  publishHost: string;
  specHash: string;
  generation: number;
  stopTimeoutSeconds: number;
}

export type ContainerState =
  | 'created'
  | 'running'
  | 'paused'
  | 'restarting'
  | 'removing'
  | 'exited'
  | 'dead';

/** A container as the engine reports it, reduced to what reconciling needs. */
export interface ObservedContainer {
  id: string;
  name: string;
  state: ContainerState;
  exitCode: number;
  oomKilled: boolean;
  restartCount: number;
  redisId: string | null;
  specHash: string | null;
  /** The record's generation the container was made for, from its label. */
  generation: number | null;
  startedAt: string | null;
  finishedAt: string | null;
  /** What the container actually runs with; absent from list results, which lack it. */
  actual?: ActualConfig;
}

/** The parts of a container's configuration the controller sets, as the engine reports them. */
export interface ActualConfig {
  image: string;
  cmd: string[];
  env: string[];
  /** `host:port` the Redis port is published on, or null. */
  published: string | null;
  memoryBytes: number;
  memoryReservationBytes: number;
  nanoCpus: number;
  cpuShares: number;
}

export interface PingResult {
  ok: boolean;
  /** What redis-cli printed, trimmed; never contains the password. */
  output: string;
}

/** Failure of a runtime call, with a message a user can act on and no secret in it. */
export class RuntimeError extends Error {
  /** True when retrying without a spec change cannot help (for example a bad image name). */
  readonly terminal: boolean;

  constructor(message: string, options: { terminal?: boolean; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'RuntimeError';
    this.terminal = options.terminal ?? false;
  }
}

/** Callbacks of a runtime's change feed. */
export interface RuntimeWatcher {
  /** A managed container of this record changed (`action` as the engine names it). */
  onChange(redisId: string, action: string): void;
  /** The feed (re)connected: anything may have changed while it was down. */
  onResync(): void;
  /** The feed was lost (once per outage); the message names the engine. */
  onDisconnect(error: unknown): void;
}

/**
 * The container went away under the call (removed, or being removed, by someone else). Not a
 * failure: the next reconcile sees the new situation.
 */
export class ContainerGoneError extends RuntimeError {
  constructor(message: string, cause: unknown) {
    super(message, { cause });
    this.name = 'ContainerGoneError';
  }
}

/** A volume with the record's name that the controller did not create for that record. */
export class ForeignVolumeError extends RuntimeError {
  constructor(message: string) {
    super(message, { terminal: true });
    this.name = 'ForeignVolumeError';
  }
}

export interface Runtime {
  /** Follows changes to managed containers until the returned function is called. */
  watch(watcher: RuntimeWatcher): () => void;
  /** The managed container named `appName`, or null when there is none (404). */
  findContainer(appName: string): Promise<ObservedContainer | null>;
  /** All containers this controller owns, running or not, in one call. */
  listManagedContainers(): Promise<ObservedContainer[]>;
  /**
   * Whether the record's volume exists. Throws ForeignVolumeError for a volume of that name that
   * this controller did not create for this record.
   */
  volumeExists(volumeName: string, redisId: string): Promise<boolean>;
  /**
   * Throws a terminal RuntimeError for settings the engine would refuse at create (more CPUs
   * than its host has), so that they are refused before a running container is replaced.
   */
  checkSettings(spec: InstanceSpec): Promise<void>;
  imagePresent(image: string): Promise<boolean>;
  /** Pulls the image; throws a RuntimeError naming the image when it cannot. */
  pullImage(image: string): Promise<void>;
  /** Creates the named volume with the managed labels; an existing one is fine. */
  createVolume(volumeName: string, redisId: string, appName: string): Promise<void>;
  /** Removes the volume; an absent one (404) is fine. */
  removeVolume(volumeName: string): Promise<void>;
  /** Creates the container (not started) and writes the config file into it; returns its id. */
  createContainer(spec: InstanceSpec): Promise<string>;
  /** Starts it; already running (304) is fine. */
  startContainer(id: string): Promise<void>;
  /** Stops it gracefully, SIGTERM then SIGKILL after the timeout; already stopped (304) is fine. */
  stopContainer(id: string, timeoutSeconds: number): Promise<void>;
  restartContainer(id: string, timeoutSeconds: number): Promise<void>;
  /** Force-removes it; absent (404) is fine. */
  removeContainer(id: string): Promise<void>;
  /**
   * Sets a new password on the running Redis (CONFIG SET requirepass), logged in as the
   * controller's operator user. The new password travels on the exec's stdin, never in argv.
   */
  setPassword(
    id: string,
    operator: { user: string; password: string },
    newPassword: string,
  ): Promise<void>;
  /** Replaces the config file inside the container (running or not). */
  writeConfig(id: string, configText: string): Promise<void>;
  /** An authenticated PING through redis-cli inside the container; the password is not an argv. */
  ping(id: string, password: string): Promise<PingResult>;
  /**
   * The last `tail` lines of the container's output, stdout and stderr merged, optionally only
   * those written since `sinceSeconds` (Unix time).
   */
  logs(id: string, tail: number, sinceSeconds?: number): Promise<string>;
}
