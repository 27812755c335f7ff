/**
 * Keys a test writes into a database over its published port and reads back later, to tell
 * whether an operation kept the data.
 */
import { RespClient } from '../../support/resp.js';

/** A database as far as keys go: where it listens, its current password, what was written. */
export interface KeyHolder {
  appName: string;
  port: number | null;
  password: string;
  /** Key → value written and not wiped since (a rebuild or remove clears it). */
  keys: Map<string, string>;
}

async function withRedis<T>(db: KeyHolder, use: (client: RespClient) => Promise<T>): Promise<T> {
  if (db.port === null) throw new Error(`${db.appName} has no external port`);
  const client = await RespClient.connect(db.port);
  try {
    const auth = await client.command('AUTH', 'default', db.password);
    if (auth !== 'OK') throw new Error(`AUTH on ${db.appName} failed: ${String(auth)}`);
    return await use(client);
  } finally {
    client.close();
  }
}

/** Writes `count` keys named after `tag` and remembers them. */
export async function writeKeys(db: KeyHolder, tag: string, count: number): Promise<void> {
  await withRedis(db, async (client) => {
    for (let index = 0; index < count; index++) {
      const key = `k${tag}-${index}`;
      const value = `v${tag}-${index}`;
      const reply = await client.command('SET', key, value);
      if (reply !== 'OK') throw new Error(`SET on ${db.appName} failed: ${String(reply)}`);
      db.keys.set(key, value);
    }
  });
}

/**
 * Reads every remembered key; returns those that are gone or changed, each described, and
 * forgets them so a loss is reported once.
 */
export async function lostKeys(db: KeyHolder): Promise<string[]> {
  if (db.keys.size === 0) return [];
  const lost = await withRedis(db, async (client) => {
    const missing: [string, string][] = [];
    for (const [key, value] of db.keys) {
      const got = await client.command('GET', key);
      if (got !== value) missing.push([key, `${key} (expected ${value}, got ${String(got)})`]);
    }
    return missing;
  });
  for (const [key] of lost) db.keys.delete(key);
  return lost.map(([, described]) => described);
}

/** How many keys the database holds. */
export async function keyCount(db: KeyHolder): Promise<number> {
  const reply = await withRedis(db, (client) => client.command('DBSIZE'));
  if (typeof reply !== 'number') throw new Error(`DBSIZE on ${db.appName}: ${String(reply)}`);
  return reply;
}
