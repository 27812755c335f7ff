import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-';

/** A 21-character url-safe random id, the length and alphabet Dokploy's ids use. */
export function newId(): string {
  const bytes = randomBytes(21);
  let id = '';
  for (const byte of bytes) id += ALPHABET[byte & 63];
  return id;
}
