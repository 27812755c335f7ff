/**
 * The crash test's script: a seeded random generator, the test's model of each database (what it
 * asked for and which keys it wrote), and the API operations with what each does to that model.
 */

/** mulberry32: a tiny seeded generator of numbers in [0, 1), so a run can be replayed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), state | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A record as `redis.one` returns it, reduced to what the test reads. */
export interface Row {
  redisId: string;
  appName: string;
  applicationStatus: string;
  desiredState: string;
  generation: number;
  deployRequests: number;
  restartRequests: number;
  rebuildRequests: number;
  databasePassword: string;
  env: string | null;
  memoryLimit: string | null;
  externalPort: number | null;
  status: {
    phase: string;
    observedGeneration: number;
    conditions: { type: string; status: string }[];
    containerId: string | null;
    lastError: string | null;
    appliedDeployRequests: number;
    appliedRestartRequests: number;
    appliedRebuildRequests: number;
  };
}

export type Desired = 'undeployed' | 'running' | 'stopped';

/** What the test asked of one database, and the keys it wrote that must survive. */
export interface Db {
  slot: number;
  redisId: string;
  appName: string;
  password: string;
  port: number | null;
  desired: Desired;
  /**
   * Whether a container should exist. A stopped database keeps its container, unless a spec
   * change or a rebuild arrived while it was stopped: then it has none until it starts.
   */
  materialized: boolean;
  env: string | null;
  memoryLimit: string | null;
  deployRequests: number;
  restartRequests: number;
  rebuildRequests: number;
  keys: Map<string, string>;
  /** Created or rebuilt since keys were last written: Redis must come up empty. */
  wiped: boolean;
}

export type OpKind =
  | 'create'
  | 'saveExternalPort'
  | 'deploy'
  | 'stop'
  | 'start'
  | 'reload'
  | 'update'
  | 'changePassword'
  | 'rebuild'
  | 'remove';

/** Operations after which every key written before must still be there. */
export const KEEPS_DATA: ReadonlySet<OpKind> = new Set([
  'saveExternalPort',
  'deploy',
  'stop',
  'start',
  'reload',
  'update',
  'changePassword',
]);

export const MEMORY_LIMITS = ['128m', '192m', '256m'] as const;

/** Picks an operation for an existing database; weights favour what moves it along. */
export function pickOp(db: Db, draw: number): OpKind {
  const weights: [OpKind, number][] = [
    ['saveExternalPort', 1],
    ['deploy', db.desired === 'undeployed' ? 4 : 1.5],
    ['stop', db.desired === 'running' ? 1.5 : 0.2],
    ['start', db.desired === 'stopped' ? 3 : 0.5],
    ['reload', 1],
    ['update', 2],
    ['changePassword', 1],
    ['rebuild', 0.7],
    ['remove', 0.5],
  ];
  const total = weights.reduce((sum, [, weight]) => sum + weight, 0);
  let left = draw * total;
  for (const [kind, weight] of weights) {
    left -= weight;
    if (left < 0) return kind;
  }
  return 'update';
}

/** One API call, how to tell from the stored record that it took effect, and its model change. */
export interface Operation {
  kind: OpKind;
  path: string;
  body: Record<string, unknown>;
  /** `row` is the record as stored now, null when the API no longer shows it. */
  applied(row: Row | null): boolean;
  /** Records in the model that the operation took effect. */
  commit(): void;
}

export interface OpValues {
  step: number;
  port: number;
  password: string;
  env: string;
  memoryLimit: string;
  /** Which fields an update changes: env, memoryLimit, or both. */
  updateFields: 'env' | 'memory' | 'both';
}

/** The operation `kind` on `db`, as the API takes it. Commits change `db` in place. */
export function operation(kind: Exclude<OpKind, 'create'>, db: Db, values: OpValues): Operation {
  const id = { redisId: db.redisId };
  const wasStopped = (): boolean => db.desired === 'stopped';
  switch (kind) {
    case 'saveExternalPort':
      return {
        kind,
        path: '/api/redis.saveExternalPort',
        body: { ...id, externalPort: values.port },
        applied: (row) => row?.externalPort === values.port,
        commit: () => {
          db.port = values.port;
          if (wasStopped()) db.materialized = false;
        },
      };
    case 'deploy':
      return {
        kind,
        path: '/api/redis.deploy',
        body: id,
        applied: (row) => row?.deployRequests === db.deployRequests + 1,
        commit: () => {
          db.deployRequests++;
          db.desired = 'running';
          db.materialized = true;
        },
      };
    case 'stop':
      return {
        kind,
        path: '/api/redis.stop',
        body: id,
        // A database never deployed stays so: there is nothing to stop.
        applied: (row) =>
          row?.desiredState === (db.desired === 'undeployed' ? 'undeployed' : 'stopped'),
        commit: () => {
          if (db.desired !== 'undeployed') db.desired = 'stopped';
        },
      };
    case 'start':
      return {
        kind,
        path: '/api/redis.start',
        body: id,
        applied: (row) => row?.desiredState === 'running',
        commit: () => {
          db.desired = 'running';
          db.materialized = true;
        },
      };
    case 'reload':
      return {
        kind,
        path: '/api/redis.reload',
        body: { ...id, appName: db.appName },
        applied: (row) => row?.restartRequests === db.restartRequests + 1,
        commit: () => {
          db.restartRequests++;
        },
      };
    case 'update': {
      const patch: { env?: string; memoryLimit?: string } = {};
      if (values.updateFields !== 'memory') patch.env = values.env;
      if (values.updateFields !== 'env') patch.memoryLimit = values.memoryLimit;
      return {
        kind,
        path: '/api/redis.update',
        body: { ...id, ...patch },
        applied: (row) =>
          row !== null &&
          (patch.env === undefined || row.env === patch.env) &&
          (patch.memoryLimit === undefined || row.memoryLimit === patch.memoryLimit),
        commit: () => {
          if (patch.env !== undefined) db.env = patch.env;
          if (patch.memoryLimit !== undefined) db.memoryLimit = patch.memoryLimit;
          if (wasStopped()) db.materialized = false;
        },
      };
    }
    case 'changePassword':
      return {
        kind,
        path: '/api/redis.changePassword',
        body: { ...id, password: values.password },
        applied: (row) => row?.databasePassword === values.password,
        commit: () => {
          db.password = values.password;
        },
      };
    case 'rebuild':
      return {
        kind,
        path: '/api/redis.rebuild',
        body: id,
        applied: (row) => row?.rebuildRequests === db.rebuildRequests + 1,
        commit: () => {
          db.rebuildRequests++;
          db.keys.clear();
          db.wiped = true;
          if (wasStopped()) db.materialized = false;
        },
      };
    case 'remove':
      return {
        kind,
        path: '/api/redis.remove',
        body: id,
        applied: (row) => row === null,
        commit: () => {
          db.keys.clear();
        },
      };
  }
}

/** The value of a memory limit such as `192m` in bytes, as Docker reports HostConfig.Memory. */
export function megabytes(limit: string): number {
  return Number.parseInt(limit, 10) * 1024 * 1024;
}
