/**
 * API tokens. Only a SHA-256 hash is stored: tokens are long random strings, so a slow hash
 * would add nothing, and a leaked database file yields no usable token.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { type Db, type Statement, statementCache } from './database.js';
import { newId } from './ids.js';

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A new random token: 32 bytes, url-safe, prefixed so it is recognisable in a secret scanner. */
export function generateToken(): string {
  return `rc_${randomBytes(32).toString('base64url')}`;
}

export class TokenRepository {
  private readonly statement: (source: string) => Statement;

  constructor(
    db: Db,
    private readonly now: () => Date,
  ) {
    this.statement = statementCache(db);
  }

  /** Stores the token's hash under `name`, replacing any token of that name. */
  put(name: string, token: string): void {
    this.statement(
      `INSERT INTO api_tokens (tokenId, name, tokenHash, createdAt)
         VALUES (@tokenId, @name, @tokenHash, @createdAt)
         ON CONFLICT(name) DO UPDATE SET tokenHash = excluded.tokenHash,
           createdAt = excluded.createdAt`,
    ).run({
      tokenId: newId(),
      name,
      tokenHash: hashToken(token),
      createdAt: this.now().toISOString(),
    });
  }

  has(name: string): boolean {
    return this.statement('SELECT 1 FROM api_tokens WHERE name = ?').get(name) !== undefined;
  }

  remove(name: string): void {
    this.statement('DELETE FROM api_tokens WHERE name = ?').run(name);
  }

  /** True when the presented token matches a stored one; compared in constant time. */
  verify(token: string): boolean {
    const presented = Buffer.from(hashToken(token), 'hex');
    const hashes = this.statement('SELECT tokenHash FROM api_tokens').pluck().all() as string[];
    let match = false;
    for (const hash of hashes) {
      if (timingSafeEqual(presented, Buffer.from(hash, 'hex'))) match = true;
    }
    return match;
  }
}
