/**
 * What the engine must hold once a controller has converged, given the test's model of each
 * database: exactly the containers and volumes their states call for, configured as asked, and
 * nothing of the controller's owner that belongs to no record.
 */
import type Docker from 'dockerode';
import { type Owned, redisIdOf } from './owned.js';
import { type Db, megabytes, type Row } from './script.js';

/** Each thing wrong, described; empty when the engine matches. */
export async function engineProblems(
  owned: Owned,
  dbs: readonly Db[],
  rows: ReadonlyMap<string, Row>,
  inspect: (id: string) => Promise<Docker.ContainerInspectInfo>,
): Promise<string[]> {
  const problems: string[] = [];
  const liveIds = new Set(dbs.map((db) => db.redisId));
  for (const container of owned.containers) {
    const redisId = redisIdOf(container);
    if (!redisId || !liveIds.has(redisId)) {
      problems.push(`orphan container ${container.Names.join(',')} (record ${redisId})`);
    }
  }
  for (const volume of owned.volumes) {
    const redisId = redisIdOf(volume);
    if (!redisId || !liveIds.has(redisId)) {
      problems.push(`orphan volume ${volume.Name} (record ${redisId})`);
    }
  }

  for (const db of dbs) {
    const containers = owned.containers.filter((c) => redisIdOf(c) === db.redisId);
    const volumes = owned.volumes.filter((v) => redisIdOf(v) === db.redisId);
    const expected = db.desired === 'running' || db.materialized ? 1 : 0;
    if (containers.length !== expected) {
      const found = containers.map((c) => `${c.Names.join(',')} ${c.State}`).join('; ');
      problems.push(
        `${db.appName} (${db.desired}) has ${containers.length} container(s), ` +
          `expected ${expected}: ${found}`,
      );
    }
    // A stopped or undeployed database may or may not have its volume yet, never two.
    const volumesExpected = db.desired === 'running' ? 1 : Math.min(volumes.length, 1);
    const wrongName = volumes.some((volume) => volume.Name !== `${db.appName}-data`);
    if (volumes.length !== volumesExpected || wrongName) {
      const names = volumes.map((volume) => volume.Name).join(',') || 'none';
      problems.push(`${db.appName} has volumes ${names}`);
    }

    const container = containers[0];
    if (!container) continue;
    if (container.Names[0] !== `/${db.appName}`) {
      problems.push(`${db.appName}'s container is named ${container.Names[0]}`);
    }
    if ((container.State === 'running') !== (db.desired === 'running')) {
      problems.push(`${db.appName} should be ${db.desired}; its container is ${container.State}`);
    }
    if (db.desired === 'running') {
      problems.push(...(await configProblems(db, container.Id, rows.get(db.redisId), inspect)));
    }
  }
  return problems;
}

/** A running database's container against the record: the id in status, env, memory, port. */
async function configProblems(
  db: Db,
  containerId: string,
  row: Row | undefined,
  inspect: (id: string) => Promise<Docker.ContainerInspectInfo>,
): Promise<string[]> {
  const problems: string[] = [];
  if (row?.status.containerId !== containerId) {
    problems.push(`${db.appName}: status names ${row?.status.containerId}, not ${containerId}`);
  }
  const info = await inspect(containerId);
  const env = info.Config.Env ?? [];
  for (const line of (db.env ?? '').split('\n').filter(Boolean)) {
    if (!env.includes(line)) problems.push(`${db.appName}: container env lacks ${line}`);
  }
  const memory = db.memoryLimit === null ? 0 : megabytes(db.memoryLimit);
  if ((info.HostConfig.Memory ?? 0) !== memory) {
    problems.push(`${db.appName}: container memory ${info.HostConfig.Memory}, not ${memory}`);
  }
  const binding = info.HostConfig.PortBindings?.['6379/tcp']?.[0]?.HostPort ?? null;
  if ((binding === null ? null : Number(binding)) !== db.port) {
    problems.push(`${db.appName}: container publishes ${binding}, not ${db.port}`);
  }
  return problems;
}
