/**
 * The desired-state store: one SQLite database, one repository per resource, and a change
 * signal that wakes the reconcile loop.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { type Db, openDatabase } from './database.js';
import { ProjectRepository } from './projects.js';
import { RedisRepository } from './redis.js';
import { TokenRepository } from './tokens.js';

export interface StoreOptions {
  /** Directory of the database file, or ':memory:'. */
  dataDir: string;
  now?: () => Date;
}

export class Store {
  readonly db: Db;
  readonly projects: ProjectRepository;
  readonly redis: RedisRepository;
  readonly tokens: TokenRepository;
  private readonly changes = new EventEmitter();

  constructor(options: StoreOptions) {
    const now = options.now ?? (() => new Date());
    this.db = openDatabase(options.dataDir);
    this.projects = new ProjectRepository(this.db, now);
    this.redis = new RedisRepository(this.db, now, (redisId) =>
      this.changes.emit('redis', redisId),
    );
    this.tokens = new TokenRepository(this.db, now);
  }

  /** Calls `listener` with the id of every Redis record whose desired state changed. */
  onRedisChange(listener: (redisId: string) => void): () => void {
    this.changes.on('redis', listener);
    return () => this.changes.off('redis', listener);
  }

  /**
   * A random value kept in the store, created on first use. Used as a key where the
   * controller must derive values that should not be guessable from outside, such as spec
   * hashes that cover the password.
   */
  secret(name: string): Buffer {
    const row = this.db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(name);
    if (typeof row === 'string') return Buffer.from(row, 'base64');
    const value = randomBytes(32);
    this.db
      .prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)')
      .run(name, value.toString('base64'));
    return this.secret(name);
  }

  close(): void {
    this.db.close();
  }
}
