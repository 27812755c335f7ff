/**
 * Schema migrations, applied in order. The database's `user_version` records how many have run;
 * a migration is never edited once released, only followed by a new one.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );

  CREATE TABLE projects (
    projectId TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT,
    createdAt TEXT NOT NULL
  );

  CREATE TABLE environments (
    environmentId TEXT PRIMARY KEY,
    projectId TEXT NOT NULL REFERENCES projects(projectId) ON DELETE RESTRICT,
    name TEXT NOT NULL,
    description TEXT,
    createdAt TEXT NOT NULL,
    UNIQUE (projectId, name)
  );

  CREATE TABLE redis (
    redisId TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    appName TEXT NOT NULL UNIQUE,
    description TEXT,
    databasePassword TEXT NOT NULL,
    dockerImage TEXT NOT NULL,
    command TEXT,
    args TEXT,
    env TEXT,
    memoryReservation TEXT,
    memoryLimit TEXT,
    cpuReservation TEXT,
    cpuLimit TEXT,
    externalPort INTEGER UNIQUE,
    environmentId TEXT NOT NULL REFERENCES environments(environmentId) ON DELETE RESTRICT,
    serverId TEXT,
    applicationStatus TEXT NOT NULL DEFAULT 'idle',
    createdAt TEXT NOT NULL,
    updatedAt TEXT NOT NULL,
    generation INTEGER NOT NULL DEFAULT 1,
    desiredState TEXT NOT NULL DEFAULT 'undeployed',
    deployRequests INTEGER NOT NULL DEFAULT 0,
    restartRequests INTEGER NOT NULL DEFAULT 0,
    rebuildRequests INTEGER NOT NULL DEFAULT 0,
    deletionRequestedAt TEXT,
    source TEXT NOT NULL DEFAULT 'api',
    status TEXT NOT NULL
  );
  CREATE INDEX redis_environment ON redis(environmentId);

  CREATE TABLE api_tokens (
    tokenId TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    tokenHash TEXT NOT NULL UNIQUE,
    createdAt TEXT NOT NULL
  );
  `,
  `
  CREATE TABLE servers (
    serverId TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT,
    dockerHost TEXT NOT NULL,
    publicHost TEXT,
    tlsCa TEXT,
    tlsCert TEXT,
    tlsKey TEXT,
    sshPrivateKey TEXT,
    createdAt TEXT NOT NULL
  );
  CREATE INDEX redis_server ON redis(serverId);
  `,
  `
  ALTER TABLE servers ADD COLUMN sshHostKey TEXT;
  `,
];
