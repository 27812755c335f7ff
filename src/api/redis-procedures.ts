/**
 * The `redis.*` verbs. Each writes desired state and returns at once; the reconcile loop
 * carries it out and reports in the record's status.
 */
import type { RedisRecord, RedisSpec } from '../domain/redis.js';
import type { Store } from '../store/store.js';
import { redisCreateInput, redisIdInput, saveExternalPortInput } from './inputs.js';
import { type Procedure, type ProcedureTable, procedure } from './procedure.js';

const SPEC_DEFAULTS: Omit<
  RedisSpec,
  'name' | 'appName' | 'databasePassword' | 'environmentId' | 'dockerImage'
> = {
  description: null,
  command: null,
  args: null,
  env: null,
  memoryReservation: null,
  memoryLimit: null,
  cpuReservation: null,
  cpuLimit: null,
  externalPort: null,
  serverId: null,
};

/** `redis.one`'s shape: the row, its environment with that environment's project, and mounts. */
function withEnvironment(store: Store, record: RedisRecord): Record<string, unknown> {
  const environment = store.projects.findEnvironment(record.environmentId);
  const project = store.projects.findProject(environment.projectId);
  return { ...record, environment: { ...environment, project }, mounts: [] };
}

export const redisProcedures: ProcedureTable = {
  'redis.create': procedure('mutation', redisCreateInput, (input, { store }) =>
    store.redis.create({ ...SPEC_DEFAULTS, ...input }),
  ),

  'redis.one': procedure('query', redisIdInput, ({ redisId }, { store }) =>
    withEnvironment(store, store.redis.find(redisId)),
  ),

  'redis.all': procedure('query', redisIdInput.partial(), (_input, { store }) =>
    store.redis.list(),
  ),

  'redis.deploy': procedure('mutation', redisIdInput, ({ redisId }, { store }) =>
    store.redis.setDesiredState(redisId, 'running', { deploy: true, applicationStatus: 'running' }),
  ),

  'redis.start': procedure('mutation', redisIdInput, ({ redisId }, { store }) =>
    store.redis.setDesiredState(redisId, 'running', { applicationStatus: 'running' }),
  ),

  'redis.stop': procedure('mutation', redisIdInput, ({ redisId }, { store }) =>
    store.redis.setDesiredState(redisId, 'stopped'),
  ),

  'redis.remove': procedure('mutation', redisIdInput, ({ redisId }, { store }) =>
    store.redis.markDeleted(redisId),
  ),

  'redis.saveExternalPort': procedure(
    'mutation',
    saveExternalPortInput,
    ({ redisId, externalPort }, { store }) => store.redis.update(redisId, { externalPort }),
  ),
} satisfies Record<string, Procedure>;
