/**
 * Encryption of secrets at rest (passwords, env), AES-256-GCM with a key kept outside the
 * database: a copy of the database file alone reveals no secret.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** Marks an encrypted value and its format, so a future format can sit beside this one. */
const PREFIX = 'enc:v1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const KEY_BYTES = 32;
export const KEY_FILE = 'secret.key';

export class SecretBox {
  constructor(private readonly key: Buffer) {
    if (key.length !== KEY_BYTES) throw new Error(`the secret key must be ${KEY_BYTES} bytes`);
  }

  seal(plaintext: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
  }

  /** Decrypts a sealed value; a value without the prefix predates encryption and is returned. */
  open(value: string): string {
    if (!value.startsWith(PREFIX)) return value;
    const raw = Buffer.from(value.slice(PREFIX.length), 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, IV_BYTES));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    try {
      return Buffer.concat([
        decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)),
        decipher.final(),
      ]).toString('utf8');
    } catch (error) {
      throw new Error('a stored secret cannot be decrypted: is this the key it was written with?', {
        cause: error,
      });
    }
  }

  /** A key for another purpose, derived so that the database never holds it. */
  derive(purpose: string): Buffer {
    return createHmac('sha256', this.key).update(purpose).digest();
  }
}

/**
 * The key from `SECRET_KEY` (64 hex characters or base64 of 32 bytes), else from
 * `<dataDir>/secret.key`, created with mode 0600 on first start.
 */
export function loadSecretKey(dataDir: string, fromEnv: string | null): Buffer {
  if (fromEnv !== null) return parseKey(fromEnv, 'SECRET_KEY');
  if (dataDir === ':memory:') return randomBytes(KEY_BYTES);

  const file = path.join(dataDir, KEY_FILE);
  if (fs.existsSync(file)) return parseKey(fs.readFileSync(file, 'utf8').trim(), file);
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(KEY_BYTES);
  // 'wx' fails if another process created it meanwhile; then that one's key is the key.
  try {
    fs.writeFileSync(file, `${key.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return parseKey(fs.readFileSync(file, 'utf8').trim(), file);
  }
  return key;
}

function parseKey(text: string, source: string): Buffer {
  const key = /^[0-9a-fA-F]{64}$/.test(text)
    ? Buffer.from(text, 'hex')
    : Buffer.from(text, 'base64');
  if (key.length !== KEY_BYTES) {
    throw new Error(`${source} must hold 32 bytes as 64 hex characters or base64`);
  }
  return key;
}
