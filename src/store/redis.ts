/**
 * Redis records: the desired state written by every source, and the status written back by the
 * reconciler. Every write that changes what should run calls `onChange`, which wakes the
 * reconcile loop; status writes do not, or the loop would wake itself forever.
 */

import { badRequest, conflict, notFound } from '../domain/errors.js';
import {
  type ApplicationStatus,
  type DesiredState,
  initialStatus,
  type RedisRecord,
  type RedisSpec,
  type RedisStatus,
  redisUrl,
} from '../domain/redis.js';
import { parseMemory } from '../domain/units.js';
import { type Db, type Statement, statementCache } from './database.js';
import { newId } from './ids.js';
import type { SecretBox } from './secret-box.js';

/** Fields whose change never touches the running container. */
const METADATA_FIELDS = new Set<keyof RedisSpec>(['name', 'description', 'environmentId']);

export interface RedisSearch {
  q?: string | undefined;
  name?: string | undefined;
  appName?: string | undefined;
  description?: string | undefined;
  projectId?: string | undefined;
  environmentId?: string | undefined;
  limit: number;
  offset: number;
}

export type RedisSearchItem = Pick<
  RedisRecord,
  | 'redisId'
  | 'name'
  | 'appName'
  | 'description'
  | 'environmentId'
  | 'applicationStatus'
  | 'createdAt'
>;

interface RedisRow extends Omit<RedisRecord, 'args' | 'status'> {
  args: string | null;
  status: string;
}

/** Spec fields stored encrypted. */
const SEALED_COLUMNS = new Set<keyof RedisSpec>(['databasePassword', 'env']);

function fromRow(row: RedisRow, secrets: SecretBox): RedisRecord {
  const databasePassword = secrets.open(row.databasePassword);
  const status = { ...initialStatus(), ...(JSON.parse(row.status) as Partial<RedisStatus>) };
  if (status.endpoint) {
    const { host, port } = status.endpoint;
    status.endpoint = { host, port, url: redisUrl(host, port, databasePassword) };
  }
  return {
    ...row,
    status,
    databasePassword,
    env: row.env === null ? null : secrets.open(row.env),
    args: row.args === null ? null : (JSON.parse(row.args) as string[]),
  };
}

const SPEC_COLUMNS: readonly (keyof RedisSpec)[] = [
  'name',
  'appName',
  'description',
  'databasePassword',
  'dockerImage',
  'command',
  'args',
  'env',
  'memoryReservation',
  'memoryLimit',
  'cpuReservation',
  'cpuLimit',
  'externalPort',
  'environmentId',
  'serverId',
];

function specParams(spec: Partial<RedisSpec>, secrets: SecretBox): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const column of SPEC_COLUMNS) {
    if (!(column in spec)) continue;
    const value = spec[column];
    if (column === 'args' && value !== null) params[column] = JSON.stringify(value);
    else if (SEALED_COLUMNS.has(column) && typeof value === 'string') {
      params[column] = secrets.seal(value);
    } else params[column] = value;
  }
  return params;
}

export class RedisRepository {
  private readonly statement: (source: string) => Statement;

  constructor(
    private readonly db: Db,
    private readonly now: () => Date,
    private readonly secrets: SecretBox,
    private readonly onChange: (redisId: string) => void,
  ) {
    this.statement = statementCache(db);
  }

  create(spec: RedisSpec, source = 'api'): RedisRecord {
    const redisId = newId();
    const timestamp = this.now().toISOString();

    const insert = this.db.transaction(() => {
      this.assertEnvironment(spec.environmentId);
      assertLimits(spec);
      this.assertAppNameFree(spec.appName, null);
      this.assertPortFree(spec.externalPort, null);
      this.statement(
        `INSERT INTO redis (redisId, ${SPEC_COLUMNS.join(', ')}, createdAt, updatedAt,
             source, status)
           VALUES (@redisId, ${SPEC_COLUMNS.map((c) => `@${c}`).join(', ')}, @createdAt,
             @updatedAt, @source, @status)`,
      ).run({
        ...specParams(spec, this.secrets),
        redisId,
        createdAt: timestamp,
        updatedAt: timestamp,
        source,
        status: JSON.stringify(initialStatus()),
      });
    });
    insert();

    this.onChange(redisId);
    return this.find(redisId);
  }

  /** The live record; one being removed counts as absent. */
  find(redisId: string): RedisRecord {
    const record = this.findIncludingDeleted(redisId);
    if (!record || record.deletionRequestedAt !== null) throw notFound('Redis');
    return record;
  }

  findIncludingDeleted(redisId: string): RedisRecord | null {
    const row = this.statement('SELECT * FROM redis WHERE redisId = ?').get(redisId);
    return row ? fromRow(row as RedisRow, this.secrets) : null;
  }

  list(): RedisRecord[] {
    const rows = this.statement(
      'SELECT * FROM redis WHERE deletionRequestedAt IS NULL ORDER BY createdAt',
    ).all() as RedisRow[];
    return rows.map((row) => fromRow(row, this.secrets));
  }

  /** Dokploy's search: substring filters, newest first, with the total before paging. */
  search(filter: RedisSearch): { items: RedisSearchItem[]; total: number } {
    const conditions = ['r.deletionRequestedAt IS NULL'];
    const params: Record<string, unknown> = { limit: filter.limit, offset: filter.offset };
    const like = (value: string): string => `%${value.trim().replace(/[\\%_]/g, '\\$&')}%`;

    if (filter.q?.trim()) {
      conditions.push(
        "(r.name LIKE @q ESCAPE '\\' OR r.appName LIKE @q ESCAPE '\\' " +
          "OR COALESCE(r.description, '') LIKE @q ESCAPE '\\')",
      );
      params.q = like(filter.q);
    }
    for (const field of ['name', 'appName', 'description'] as const) {
      const value = filter[field];
      if (!value?.trim()) continue;
      conditions.push(`COALESCE(r.${field}, '') LIKE @${field} ESCAPE '\\'`);
      params[field] = like(value);
    }
    if (filter.projectId) {
      conditions.push('e.projectId = @projectId');
      params.projectId = filter.projectId;
    }
    if (filter.environmentId) {
      conditions.push('r.environmentId = @environmentId');
      params.environmentId = filter.environmentId;
    }

    const from = `FROM redis r JOIN environments e ON e.environmentId = r.environmentId
      WHERE ${conditions.join(' AND ')}`;
    const items = this.statement(
      `SELECT r.redisId, r.name, r.appName, r.description, r.environmentId,
           r.applicationStatus, r.createdAt
         ${from} ORDER BY r.createdAt DESC, r.redisId LIMIT @limit OFFSET @offset`,
    ).all(params) as RedisSearchItem[];
    const { limit: _limit, offset: _offset, ...countParams } = params;
    const total = this.statement(`SELECT COUNT(*) ${from}`).pluck().get(countParams) as number;
    return { items, total };
  }

  /** Every id, including records being removed, for the periodic resync. */
  listIds(): string[] {
    return this.statement('SELECT redisId FROM redis').pluck().all() as string[];
  }

  /** Applies a spec patch; the generation moves only when something the container uses changed. */
  update(redisId: string, patch: Partial<RedisSpec>): RedisRecord {
    const apply = this.db.transaction(() => {
      const current = this.find(redisId);
      const changed = SPEC_COLUMNS.filter(
        (column) =>
          column in patch && JSON.stringify(patch[column]) !== JSON.stringify(current[column]),
      );
      if (changed.length === 0) return false;

      // The field named is the one this request changed.
      assertLimits(
        { ...current, ...patch },
        'memoryReservation' in patch ? 'memoryReservation' : 'memoryLimit',
      );
      if (changed.includes('environmentId') && patch.environmentId) {
        this.assertEnvironment(patch.environmentId);
      }
      if (changed.includes('serverId') && current.desiredState !== 'undeployed') {
        throw conflict(
          'serverId cannot change once the database has been deployed: its data volume lives ' +
            'on that server',
        );
      }
      if (changed.includes('appName') && patch.appName) {
        if (current.desiredState !== 'undeployed') {
          throw conflict(
            'appName cannot change once the database has been deployed: it names the ' +
              'container and its data volume',
          );
        }
        this.assertAppNameFree(patch.appName, redisId);
      }
      if (changed.includes('externalPort') && patch.externalPort !== undefined) {
        this.assertPortFree(patch.externalPort, redisId);
      }

      const runtimeChange = changed.some((column) => !METADATA_FIELDS.has(column));
      const params = specParams(
        Object.fromEntries(changed.map((c) => [c, patch[c]])),
        this.secrets,
      );
      const assignments = Object.keys(params).map((column) => `${column} = @${column}`);
      this.statement(
        `UPDATE redis SET ${assignments.join(', ')}, updatedAt = @updatedAt,
             generation = generation + @bump
           WHERE redisId = @redisId`,
      ).run({
        ...params,
        redisId,
        updatedAt: this.now().toISOString(),
        bump: runtimeChange ? 1 : 0,
      });
      return runtimeChange;
    });

    if (apply()) this.onChange(redisId);
    return this.find(redisId);
  }

  /**
   * Sets what should run. `deploy` also counts a deploy request, which the reconciler carries
   * out once; `applicationStatus` is the summary shown until the reconciler reports. Asking for
   * the state already asked for (start on a running database) changes nothing, not even the
   * summary, since no transition will follow to replace it.
   *
   * A change moves the generation, as any change of what is asked for does: a status observed
   * before it (Ready while a stop is on its way) must not pass for the answer to it.
   */
  setDesiredState(
    redisId: string,
    desiredState: DesiredState,
    options: { deploy?: boolean; retry?: boolean; applicationStatus?: ApplicationStatus } = {},
  ): RedisRecord {
    this.find(redisId);
    // `retry`: asked again although nothing changed (a start after a failure that stopped the
    // retries), so it is a new generation to act on.
    this.statement(
      `UPDATE redis SET desiredState = @desiredState,
           deployRequests = deployRequests + @deploy,
           generation = generation + (desiredState != @desiredState OR @deploy = 1 OR @retry = 1),
           applicationStatus = CASE
             WHEN desiredState != @desiredState OR @deploy = 1 OR @retry = 1
               THEN COALESCE(@applicationStatus, applicationStatus)
             ELSE applicationStatus END,
           updatedAt = @updatedAt
         WHERE redisId = @redisId`,
    ).run({
      redisId,
      desiredState,
      deploy: options.deploy ? 1 : 0,
      retry: options.retry ? 1 : 0,
      applicationStatus: options.applicationStatus ?? null,
      updatedAt: this.now().toISOString(),
    });
    this.onChange(redisId);
    return this.find(redisId);
  }

  /**
   * Counts a reload (restart) or rebuild request; each is carried out exactly once, and moves
   * the generation like any other change of what is asked for.
   */
  request(redisId: string, kind: 'restart' | 'rebuild'): RedisRecord {
    this.find(redisId);
    const column = kind === 'restart' ? 'restartRequests' : 'rebuildRequests';
    this.statement(
      `UPDATE redis SET ${column} = ${column} + 1, generation = generation + 1,
           updatedAt = @updatedAt
         WHERE redisId = @redisId`,
    ).run({ redisId, updatedAt: this.now().toISOString() });
    this.onChange(redisId);
    return this.find(redisId);
  }

  /** Soft delete: the reconciler removes the container and volume, then the row. */
  markDeleted(redisId: string): RedisRecord {
    const record = this.find(redisId);
    const timestamp = this.now().toISOString();
    this.statement(
      'UPDATE redis SET deletionRequestedAt = @timestamp WHERE redisId = @redisId',
    ).run({ redisId, timestamp });
    this.onChange(redisId);
    return { ...record, deletionRequestedAt: timestamp };
  }

  /** Overrides the reported status until the reconciler's next real transition. */
  setApplicationStatus(redisId: string, applicationStatus: ApplicationStatus): RedisRecord {
    this.find(redisId);
    this.statement('UPDATE redis SET applicationStatus = ? WHERE redisId = ?').run(
      applicationStatus,
      redisId,
    );
    return this.find(redisId);
  }

  /** The reconciler's report. Touches status columns only, so it never undoes a spec write. */
  writeStatus(redisId: string, status: RedisStatus, applicationStatus?: ApplicationStatus): void {
    this.statement(
      `UPDATE redis SET status = @status,
           applicationStatus = COALESCE(@applicationStatus, applicationStatus)
         WHERE redisId = @redisId`,
    ).run({
      redisId,
      // The endpoint's URL holds the password; it is rebuilt on read.
      status: JSON.stringify({
        ...status,
        endpoint: status.endpoint && { host: status.endpoint.host, port: status.endpoint.port },
      }),
      applicationStatus: applicationStatus ?? null,
    });
  }

  /** Removes the row for good; only the reconciler calls this, after the runtime is clean. */
  purge(redisId: string): void {
    this.statement('DELETE FROM redis WHERE redisId = ?').run(redisId);
  }

  private assertEnvironment(environmentId: string): void {
    const row = this.statement('SELECT 1 FROM environments WHERE environmentId = ?').get(
      environmentId,
    );
    if (!row) throw notFound('Environment');
  }

  private assertAppNameFree(appName: string, ownId: string | null): void {
    const holder = this.statement(
      'SELECT redisId, deletionRequestedAt FROM redis WHERE appName = ?',
    ).get(appName) as { redisId: string; deletionRequestedAt: string | null } | undefined;
    if (!holder || holder.redisId === ownId) return;
    if (holder.deletionRequestedAt) {
      throw conflict(`appName "${appName}" belongs to a database still being removed; retry soon`);
    }
    throw conflict(`appName "${appName}" is already used by redis ${holder.redisId}`);
  }

  /** The database that has `port` as its external port, if any (including one being removed). */
  portHolder(port: number): { redisId: string; appName: string } | null {
    const holder = this.statement('SELECT redisId, appName FROM redis WHERE externalPort = ?').get(
      port,
    ) as { redisId: string; appName: string } | undefined;
    return holder ?? null;
  }

  private assertPortFree(port: number | null, ownId: string | null): void {
    if (port === null) return;
    const holder = this.portHolder(port);
    if (!holder || holder.redisId === ownId) return;
    throw conflict(`Port ${port} is already used by redis "${holder.appName}"`);
  }
}

/**
 * Limits the engine would refuse, caught before a running container is replaced by one that
 * cannot be created.
 */
function assertLimits(
  spec: Pick<RedisSpec, 'memoryLimit' | 'memoryReservation'>,
  field: 'memoryLimit' | 'memoryReservation' = 'memoryReservation',
): void {
  if (spec.memoryLimit === null || spec.memoryReservation === null) return;
  const limit = parseMemory(spec.memoryLimit);
  const reservation = parseMemory(spec.memoryReservation);
  if (typeof limit === 'number' && typeof reservation === 'number' && reservation > limit) {
    throw badRequest(
      `memoryReservation (${spec.memoryReservation}) must not be more than memoryLimit ` +
        `(${spec.memoryLimit})`,
      field,
    );
  }
}
