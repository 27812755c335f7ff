/**
 * The redis.conf the controller writes into each instance. The password travels in this file
 * and nowhere else: not in argv, not in the container's environment.
 */

import { createHash } from 'node:crypto';

/** Where the file is written inside the container. */
export const CONFIG_PATH = '/etc/redis-controller/redis.conf';

/**
 * Quotes a value for redis.conf. Redis splits config lines like a shell but understands
 * `\xHH` escapes inside double quotes, so every byte outside printable ASCII, and the quote and
 * backslash themselves, are written as escapes. No value can end the line or start a new
 * directive.
 */
export function quoteConfigValue(value: string): string {
  let quoted = '"';
  for (const byte of Buffer.from(value, 'utf8')) {
    const printable = byte >= 0x20 && byte <= 0x7e && byte !== 0x22 && byte !== 0x5c;
    quoted += printable ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return `${quoted}"`;
}

export interface RedisConfigOptions {
  password: string;
  /** Set when the container has a memory limit and the user chose no maxmemory. */
  maxmemoryBytes: number | null;
  /** Data directory and append-only persistence; left out when the user gave their own argv. */
  persistenceDefaults: boolean;
  /**
   * The controller's own Redis user, allowed only what changing the password in place needs.
   * Its password is written as a SHA-256 digest, as Redis ACL rules allow.
   */
  operator: { user: string; password: string };
}

export function renderRedisConfig(options: RedisConfigOptions): string {
  const lines = [
    '# Written by redis-controller; it is replaced whenever the container is recreated.',
  ];
  if (options.persistenceDefaults) {
    lines.push('dir /data', 'appendonly yes', 'appendfsync everysec');
  }
  lines.push(`requirepass ${quoteConfigValue(options.password)}`);
  const digest = createHash('sha256').update(options.operator.password).digest('hex');
  lines.push(`user ${options.operator.user} on #${digest} -@all +ping +config|set`);
  if (options.maxmemoryBytes !== null) lines.push(`maxmemory ${options.maxmemoryBytes}`);
  return `${lines.join('\n')}\n`;
}
