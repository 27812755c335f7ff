/**
 * Opening the SQLite file and bringing its schema up to date.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS } from './migrations.js';

export type Db = Database.Database;

export const DATABASE_FILE = 'redis-controller.db';

export type Statement = Database.Statement;

/**
 * Prepares each distinct SQL text once. Preparing is most of the cost of a small query, and
 * better-sqlite3 keeps every prepared statement's native memory, so preparing per call made
 * both CPU and memory grow with traffic. Callers must not leave a statement in pluck mode that
 * another caller of the same text does not expect; each SQL text here has one use.
 */
export function statementCache(db: Db): (source: string) => Statement {
  const statements = new Map<string, Statement>();
  return (source) => {
    let statement = statements.get(source);
    if (!statement) {
      statement = db.prepare(source);
      statements.set(source, statement);
    }
    return statement;
  };
}

/** Opens (creating if needed) the database in `dataDir`, or in memory for ':memory:'. */
export function openDatabase(dataDir: string): Db {
  let file = ':memory:';
  if (dataDir !== ':memory:') {
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    file = path.join(dataDir, DATABASE_FILE);
  }
  const db = new Database(file);
  // Only the controller reads its store. SQLite gives the -wal and -shm files the same mode.
  if (file !== ':memory:') fs.chmodSync(file, 0o600);

  // WAL lets the API read while the reconciler writes; the busy timeout covers the short
  // moments when two writers meet. Foreign keys are off by default in SQLite.
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');

  migrate(db);
  return db;
}

function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(
      `the database schema (version ${current}) is newer than this build knows ` +
        `(${MIGRATIONS.length}); run a newer redis-controller`,
    );
  }
  for (let version = current; version < MIGRATIONS.length; version++) {
    const step = db.transaction(() => {
      db.exec(MIGRATIONS[version] ?? '');
      db.pragma(`user_version = ${version + 1}`);
    });
    step();
  }
}
