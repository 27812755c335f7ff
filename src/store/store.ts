/**
 * The desired-state store: one SQLite database, one repository per resource, and a change
 * signal that wakes the reconcile loop.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { type Db, openDatabase, type Statement, statementCache } from './database.js';
import { ProjectRepository } from './projects.js';
import { RedisRepository } from './redis.js';
import { loadSecretKey, SecretBox } from './secret-box.js';
import { ServerRepository } from './servers.js';
import { TokenRepository } from './tokens.js';

export interface StoreOptions {
  /** Directory of the database file, or ':memory:'. */
  dataDir: string;
  /** The encryption key as configured (SECRET_KEY); else the key file in dataDir is used. */
  secretKey?: string | null;
  now?: () => Date;
}

export class Store {
  readonly db: Db;
  readonly projects: ProjectRepository;
  readonly redis: RedisRepository;
  readonly tokens: TokenRepository;
  readonly servers: ServerRepository;
  readonly secrets: SecretBox;
  private readonly changes = new EventEmitter();
  private readonly statement: (source: string) => Statement;

  constructor(options: StoreOptions) {
    const now = options.now ?? (() => new Date());
    this.secrets = new SecretBox(loadSecretKey(options.dataDir, options.secretKey ?? null));
    this.db = openDatabase(options.dataDir);
    this.statement = statementCache(this.db);
    this.projects = new ProjectRepository(this.db, now);
    const onRedisChange = (redisId: string) => this.changes.emit('redis', redisId);
    this.redis = new RedisRepository(this.db, now, this.secrets, onRedisChange);
    this.tokens = new TokenRepository(this.db, now);
    this.servers = new ServerRepository(this.db, now, this.secrets, onRedisChange);
  }

  /** Calls `listener` with the id of every Redis record whose desired state changed. */
  onRedisChange(listener: (redisId: string) => void): () => void {
    this.changes.on('redis', listener);
    return () => this.changes.off('redis', listener);
  }

  /**
   * A random value kept in the database, created on first use: identities, not secrets. Keys
   * for secrets come from `secrets.derive`, which the database alone does not reveal.
   */
  randomValue(name: string): Buffer {
    const row = this.statement('SELECT value FROM meta WHERE key = ?').pluck().get(name);
    if (typeof row === 'string') return Buffer.from(row, 'base64');
    const value = randomBytes(32);
    this.statement('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)').run(
      name,
      value.toString('base64'),
    );
    return this.randomValue(name);
  }

  /** This store's identity, labelled on every runtime object it owns. */
  ownerId(): string {
    return this.randomValue('owner-id').toString('hex').slice(0, 16);
  }

  close(): void {
    this.db.close();
  }
}
