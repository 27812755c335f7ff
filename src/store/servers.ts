/**
 * Docker servers. Private keys are stored encrypted, like every other secret.
 */
import { conflict, notFound } from '../domain/errors.js';
import type { ServerRecord, ServerSpec } from '../domain/server.js';
import { type Db, type Statement, statementCache } from './database.js';
import { newId } from './ids.js';
import type { SecretBox } from './secret-box.js';

const SEALED = ['tlsKey', 'sshPrivateKey'] as const;

export class ServerRepository {
  private readonly statement: (source: string) => Statement;

  constructor(
    private readonly db: Db,
    private readonly now: () => Date,
    private readonly secrets: SecretBox,
    /**
     * Wakes the reconciler for a record: those on a changed server are tried again at once
     * (unless stalled on a terminal error, which waits for a change of their own).
     */
    private readonly onChange: (redisId: string) => void,
  ) {
    this.statement = statementCache(db);
  }

  create(spec: ServerSpec): ServerRecord {
    const server: ServerRecord = {
      ...spec,
      serverId: newId(),
      createdAt: this.now().toISOString(),
    };
    const row = this.sealed(server);
    this.statement(
      `INSERT INTO servers (serverId, name, description, dockerHost, publicHost, tlsCa, tlsCert,
           tlsKey, sshPrivateKey, sshHostKey, createdAt)
         VALUES (@serverId, @name, @description, @dockerHost, @publicHost, @tlsCa, @tlsCert,
           @tlsKey, @sshPrivateKey, @sshHostKey, @createdAt)`,
    ).run(row);
    return server;
  }

  /**
   * Replaces a server's settings. Its addresses cannot change while databases are placed on
   * it: their data volumes live on that engine, and their endpoints name its public host.
   */
  update(serverId: string, spec: ServerSpec): ServerRecord {
    const update = this.db.transaction(() => {
      const current = this.find(serverId);
      const placed = this.placedOn(serverId);
      for (const field of ['dockerHost', 'publicHost'] as const) {
        if (spec[field] === current[field] || placed.length === 0) continue;
        throw conflict(
          `${field} of server "${current.name}" cannot change while databases are placed on ` +
            'it; remove them first',
        );
      }
      const server: ServerRecord = { ...spec, serverId, createdAt: current.createdAt };
      this.statement(
        `UPDATE servers SET name = @name, description = @description, dockerHost = @dockerHost,
             publicHost = @publicHost, tlsCa = @tlsCa, tlsCert = @tlsCert, tlsKey = @tlsKey,
             sshPrivateKey = @sshPrivateKey, sshHostKey = @sshHostKey
           WHERE serverId = @serverId`,
      ).run(this.sealed(server));
      return { server, placed };
    });
    const { server, placed } = update();
    for (const redisId of placed) this.onChange(redisId);
    return server;
  }

  /**
   * Records the SSH host key a server at `dockerHost` showed on its first connection, unless
   * one is pinned already; returns the pin now kept, or null when the server is gone or has
   * moved to another address meanwhile.
   */
  pinHostKey(serverId: string, dockerHost: string, pin: string): string | null {
    this.statement(
      `UPDATE servers SET sshHostKey = ?
         WHERE serverId = ? AND dockerHost = ? AND sshHostKey IS NULL`,
    ).run(pin, serverId, dockerHost);
    const kept = this.statement(
      'SELECT sshHostKey FROM servers WHERE serverId = ? AND dockerHost = ?',
    )
      .pluck()
      .get(serverId, dockerHost) as string | null | undefined;
    return kept ?? null;
  }

  find(serverId: string): ServerRecord {
    const row = this.statement('SELECT * FROM servers WHERE serverId = ?').get(serverId);
    if (!row) throw notFound('Server');
    return this.open(row as ServerRecord);
  }

  list(): ServerRecord[] {
    const rows = this.statement('SELECT * FROM servers ORDER BY createdAt').all() as ServerRecord[];
    return rows.map((row) => this.open(row));
  }

  /** Deletes a server no database is placed on, but for those being removed; refuses otherwise. */
  remove(serverId: string): ServerRecord {
    const remove = this.db.transaction(() => {
      const server = this.find(serverId);
      const count = this.statement(
        'SELECT COUNT(*) FROM redis WHERE serverId = ? AND deletionRequestedAt IS NULL',
      )
        .pluck()
        .get(serverId) as number;
      if (count > 0) {
        throw conflict(
          `Server "${server.name}" still holds ${count} database(s); remove them first`,
        );
      }
      // Databases already being removed are let go with their server: if it cannot be reached,
      // their removal would otherwise never finish, and their names and ports stay taken.
      this.statement(
        'DELETE FROM redis WHERE serverId = ? AND deletionRequestedAt IS NOT NULL',
      ).run(serverId);
      this.statement('DELETE FROM servers WHERE serverId = ?').run(serverId);
      return server;
    });
    return remove();
  }

  /** Ids of the records placed on the server. */
  private placedOn(serverId: string): string[] {
    return this.statement('SELECT redisId FROM redis WHERE serverId = ?')
      .pluck()
      .all(serverId) as string[];
  }

  private sealed(server: ServerRecord): Record<string, unknown> {
    const row: Record<string, unknown> = { ...server };
    for (const column of SEALED) {
      const value = server[column];
      row[column] = value === null ? null : this.secrets.seal(value);
    }
    return row;
  }

  private open(row: ServerRecord): ServerRecord {
    return {
      ...row,
      tlsKey: row.tlsKey === null ? null : this.secrets.open(row.tlsKey),
      sshPrivateKey: row.sshPrivateKey === null ? null : this.secrets.open(row.sshPrivateKey),
    };
  }
}
