/**
 * The host key an SSH server must show: pinned as `<key type> SHA256:<fingerprint>`, or as the
 * fingerprint alone when the type was not given. The type matters: a server holds several host
 * keys and shows the one of the algorithm the client asks for.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';

const KEY_TYPES = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'ssh-rsa',
] as const;
type KeyType = (typeof KEY_TYPES)[number];

/** Size of each key's blob, where it is fixed: type string, then the key itself. */
const BLOB_BYTES: Partial<Record<KeyType, number>> = {
  'ssh-ed25519': 4 + 11 + 4 + 32,
  'ecdsa-sha2-nistp256': 4 + 19 + 4 + 8 + 4 + 65,
  'ecdsa-sha2-nistp384': 4 + 19 + 4 + 8 + 4 + 97,
  'ecdsa-sha2-nistp521': 4 + 19 + 4 + 8 + 4 + 133,
};

const FINGERPRINT = 'SHA256:[A-Za-z0-9+/]{43}';
/** `[host] <type> <base64> [comment]`: a .pub file, `ssh-keyscan` output, a known_hosts line. */
const KEY_LINE = new RegExp(
  `^(?:\\S+\\s+)?(${KEY_TYPES.join('|')})\\s+([A-Za-z0-9+/]+={0,2})(?:\\s.*)?$`,
);
/** `SHA256:…` alone, or as `ssh-keygen -l` prints it: `<bits> SHA256:… <comment> (<TYPE>)`. */
const FINGERPRINT_LINE = new RegExp(
  `^(?:(\\d+)\\s+)?(${FINGERPRINT})(?:\\s.*?)?(?:\\((\\w+)\\))?$`,
);
const PIN = new RegExp(`^(?:(${KEY_TYPES.join('|')}) )?(${FINGERPRINT})$`);

/** OpenSSH's fingerprint of a public key blob: `SHA256:` and unpadded base64. */
export function sshFingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type a blob names in its first SSH string, when it is one of those accepted. */
function blobType(blob: Buffer): KeyType | null {
  if (blob.length < 4) return null;
  const length = blob.readUInt32BE(0);
  const type = blob.subarray(4, 4 + length).toString('latin1') as KeyType;
  if (!KEY_TYPES.includes(type)) return null;
  const expected = BLOB_BYTES[type];
  const complete =
    expected === undefined ? blob.length > 4 + length + 64 : blob.length === expected;
  return complete ? type : null;
}

/** The pin of the key a server showed. */
export function pinOf(blob: Buffer): string {
  const type = blobType(blob);
  return type ? `${type} ${sshFingerprint(blob)}` : sshFingerprint(blob);
}

/** The pin a user's text stands for, or null when it is not a key or fingerprint. */
function pinFromText(text: string): string | null {
  const line = KEY_LINE.exec(text);
  if (line?.[2]) {
    const blob = Buffer.from(line[2], 'base64');
    return blobType(blob) === line[1] ? pinOf(blob) : null;
  }
  const printed = FINGERPRINT_LINE.exec(text);
  if (!printed?.[2]) return null;
  const [, bits, fingerprint, shownType] = printed;
  const type =
    shownType === 'ED25519'
      ? 'ssh-ed25519'
      : shownType === 'RSA'
        ? 'ssh-rsa'
        : shownType === 'ECDSA' && ['256', '384', '521'].includes(bits ?? '')
          ? `ecdsa-sha2-nistp${bits}`
          : null;
  return type ? `${type} ${fingerprint}` : fingerprint;
}

/**
 * What a user may give as a server's host key: a public key line (a .pub file, `ssh-keyscan`
 * output), a `SHA256:` fingerprint, or a line of `ssh-keygen -l`. Becomes the pin.
 */
export const sshHostKeySchema = z
  .string()
  .trim()
  .max(16384, 'must be at most 16384 characters')
  .transform((text, ctx) => {
    const pin = PIN.test(text) ? text : pinFromText(text);
    if (pin !== null) return pin;
    ctx.addIssue({
      code: 'custom',
      message:
        'must be one SSH public key line (ssh-ed25519, ecdsa-sha2-nistp*, ssh-rsa), ' +
        'a SHA256: fingerprint, or a line of ssh-keygen -l',
    });
    return z.NEVER;
  })
  .nullable();

/** A stored pin, read: the key type when known, and the fingerprint. */
export function readPin(pin: string): { type: KeyType | null; fingerprint: string } {
  const match = PIN.exec(pin);
  if (!match?.[2]) throw new Error('not an SSH host key pin');
  return { type: (match[1] as KeyType | undefined) ?? null, fingerprint: match[2] };
}

/**
 * The host key algorithms to offer so that the server shows the pinned key: that key's alone
 * when its type is known, else ssh2's order (ed25519 first).
 */
export function hostKeyAlgorithms(type: KeyType | null): string[] | null {
  if (type === null) return null;
  return type === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [type];
}
