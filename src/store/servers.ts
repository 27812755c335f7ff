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
  ) {
    this.statement = statementCache(db);
  }

  create(spec: ServerSpec): ServerRecord {
    const server: ServerRecord = {
      ...spec,
      serverId: newId(),
      createdAt: this.now().toISOString(),
    };
    const row: Record<string, unknown> = { ...server };
    for (const column of SEALED) {
      const value = server[column];
      row[column] = value === null ? null : this.secrets.seal(value);
    }
    this.statement(
      `INSERT INTO servers (serverId, name, description, dockerHost, publicHost, tlsCa, tlsCert,
           tlsKey, sshPrivateKey, createdAt)
         VALUES (@serverId, @name, @description, @dockerHost, @publicHost, @tlsCa, @tlsCert,
           @tlsKey, @sshPrivateKey, @createdAt)`,
    ).run(row);
    return server;
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

  /** Deletes a server no database is placed on; refuses otherwise. */
  remove(serverId: string): ServerRecord {
    const remove = this.db.transaction(() => {
      const server = this.find(serverId);
      const count = this.statement('SELECT COUNT(*) FROM redis WHERE serverId = ?')
        .pluck()
        .get(serverId) as number;
      if (count > 0) {
        throw conflict(
          `Server "${server.name}" still holds ${count} database(s); remove them first`,
        );
      }
      this.statement('DELETE FROM servers WHERE serverId = ?').run(serverId);
      return server;
    });
    return remove();
  }

  private open(row: ServerRecord): ServerRecord {
    return {
      ...row,
      tlsKey: row.tlsKey === null ? null : this.secrets.open(row.tlsKey),
      sshPrivateKey: row.sshPrivateKey === null ? null : this.secrets.open(row.sshPrivateKey),
    };
  }
}
