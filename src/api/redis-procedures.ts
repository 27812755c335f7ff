/**
 * The `redis.*` verbs. Each writes desired state and returns at once; the reconcile loop
 * carries it out and reports in the record's status. Return values follow Dokploy's.
 */
import { randomBytes } from 'node:crypto';
import { badRequest, conflict } from '../domain/errors.js';
import { OPTIONAL_SPEC_DEFAULTS, type RedisRecord } from '../domain/redis.js';
import type { Store } from '../store/store.js';
import {
  changePasswordInput,
  changeStatusInput,
  moveInput,
  noInput,
  readLogsInput,
  redisCreateInput,
  redisIdInput,
  redisUpdateInput,
  reloadInput,
  saveEnvironmentInput,
  saveExternalPortInput,
  searchInput,
} from './inputs.js';
import { type ProcedureContext, type ProcedureTable, procedure } from './procedure.js';

const SECONDS_PER_UNIT: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** `redis.one`'s shape: the row, its environment with that environment's project, and mounts. */
function withEnvironment(store: Store, record: RedisRecord): Record<string, unknown> {
  const environment = store.projects.findEnvironment(record.environmentId);
  const project = store.projects.findProject(environment.projectId);
  const mounts = [
    {
      mountId: `${record.redisId}-data`,
      type: 'volume',
      volumeName: `${record.appName}-data`,
      mountPath: '/data',
      serviceType: 'redis',
    },
  ];
  return { ...record, environment: { ...environment, project }, mounts };
}

/** `redis-<name as a DNS label>-<6 random characters>`, always a valid appName. */
function generatedAppName(name: string): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  const suffix = randomBytes(6)
    .toString('base64url')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '0')
    .slice(0, 6);
  return ['redis', slug, suffix].filter(Boolean).join('-');
}

/**
 * Refuses a port another database holds, or that something on the host listens on. The
 * database's own current port is never a conflict.
 */
async function assertPortUsable(
  context: ProcedureContext,
  port: number | null | undefined,
  own: RedisRecord | null,
  serverId: string | null,
): Promise<void> {
  if (port === null || port === undefined || port === own?.externalPort) return;
  const holder = context.store.redis.portHolder(port);
  if (holder && holder.redisId !== own?.redisId) {
    throw conflict(`Port ${port} is already used by redis "${holder.appName}"`);
  }
  // Only the local engine's host can be probed from here; a server's engine reports at start.
  const probe = serverId === null ? await context.portProbe?.(port) : null;
  if (probe && !probe.free) throw conflict(`Port ${port} is already in use by ${probe.holder}`);
}

export const redisProcedures: ProcedureTable = {
  'redis.create': procedure('mutation', redisCreateInput, async (input, context) => {
    if (input.serverId) context.store.servers.find(input.serverId);
    await assertPortUsable(context, input.externalPort, null, input.serverId ?? null);
    const appName = input.appName ?? generatedAppName(input.name);
    return context.store.redis.create({ ...OPTIONAL_SPEC_DEFAULTS, ...input, appName });
  }),

  'redis.one': procedure('query', redisIdInput, ({ redisId }, { store }) =>
    withEnvironment(store, store.redis.find(redisId)),
  ),

  'redis.all': procedure('query', noInput, (_input, { store }) => store.redis.list()),

  'redis.search': procedure('query', searchInput, (input, { store }) => store.redis.search(input)),

  'redis.deploy': procedure('mutation', redisIdInput, ({ redisId }, { store }) =>
    store.redis.setDesiredState(redisId, 'running', { deploy: true, applicationStatus: 'running' }),
  ),

  'redis.start': procedure('mutation', redisIdInput, ({ redisId }, { store }) => {
    // A start of a database whose last attempt failed for good is a request to try again.
    const stalled = store.redis.find(redisId).status.stalledAt !== null;
    return store.redis.setDesiredState(redisId, 'running', {
      retry: stalled,
      applicationStatus: 'running',
    });
  }),

  'redis.stop': procedure('mutation', redisIdInput, ({ redisId }, { store }) => {
    // Nothing runs yet: a stop leaves it undeployed rather than making it count as deployed.
    const record = store.redis.find(redisId);
    if (record.desiredState === 'undeployed') return record;
    return store.redis.setDesiredState(redisId, 'stopped');
  }),

  'redis.reload': procedure('mutation', reloadInput, ({ redisId, appName }, { store }) => {
    const record = store.redis.find(redisId);
    if (appName.trim().toLowerCase() !== record.appName) {
      throw badRequest(`appName: "${appName}" is not the appName of this database`, 'appName');
    }
    store.redis.request(redisId, 'restart');
    return true;
  }),

  'redis.rebuild': procedure('mutation', redisIdInput, ({ redisId }, { store }) => {
    store.redis.request(redisId, 'rebuild');
    return true;
  }),

  'redis.remove': procedure('mutation', redisIdInput, ({ redisId }, { store }) =>
    store.redis.markDeleted(redisId),
  ),

  'redis.update': procedure('mutation', redisUpdateInput, async (input, context) => {
    const { redisId, applicationStatus, ...patch } = input;
    const record = context.store.redis.find(redisId);
    if (patch.serverId) context.store.servers.find(patch.serverId);
    await assertPortUsable(context, patch.externalPort, record, record.serverId);
    context.store.redis.update(redisId, patch);
    if (applicationStatus) context.store.redis.setApplicationStatus(redisId, applicationStatus);
    return true;
  }),

  'redis.saveEnvironment': procedure('mutation', saveEnvironmentInput, ({ redisId, env }, c) => {
    c.store.redis.update(redisId, { env });
    return true;
  }),

  'redis.saveExternalPort': procedure('mutation', saveExternalPortInput, async (input, context) => {
    const record = context.store.redis.find(input.redisId);
    await assertPortUsable(context, input.externalPort, record, record.serverId);
    return context.store.redis.update(input.redisId, { externalPort: input.externalPort });
  }),

  'redis.changeStatus': procedure('mutation', changeStatusInput, (input, { store }) =>
    store.redis.setApplicationStatus(input.redisId, input.applicationStatus),
  ),

  'redis.changePassword': procedure('mutation', changePasswordInput, (input, { store }) => {
    store.redis.update(input.redisId, { databasePassword: input.password });
    return true;
  }),

  'redis.move': procedure('mutation', moveInput, (input, { store }) => {
    store.projects.findEnvironment(input.targetEnvironmentId);
    return store.redis.update(input.redisId, { environmentId: input.targetEnvironmentId });
  }),

  'redis.readLogs': procedure('query', readLogsInput, async (input, { store, observer }) => {
    const record = store.redis.find(input.redisId);
    if (!observer) throw badRequest('Logs are not available from this controller');
    const match = /^(\d+)([smhd])$/.exec(input.since);
    const sinceSeconds = match
      ? Math.floor(Date.now() / 1000) - Number(match[1]) * (SECONDS_PER_UNIT[match[2] ?? 's'] ?? 1)
      : undefined;
    const text = await observer.logs(record, { tail: input.tail, sinceSeconds });
    if (text === null) return '';
    const search = input.search?.trim();
    if (!search) return text;
    return text
      .split('\n')
      .filter((line) => line.includes(search))
      .join('\n');
  }),
};
