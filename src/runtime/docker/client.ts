/**
 * A dockerode client from a DOCKER_HOST-style address.
 */
import Docker from 'dockerode';
import { hostKeyAlgorithms, pinOf, readPin, sshFingerprint } from '../../domain/ssh-host-key.js';

export interface EngineCredentials {
  /** PEM; with them a tcp:// engine is spoken to over TLS, verifying the server against `ca`. */
  tlsCa?: string | null;
  tlsCert?: string | null;
  tlsKey?: string | null;
  /** PEM private key for ssh:// engines. */
  sshPrivateKey?: string | null;
  /** The pin (`[type] SHA256:…`) the SSH server's host key must match; null trusts the first. */
  sshHostKey?: string | null;
  /**
   * Called with the pin of the host key first shown; returns the pin kept from then on, or
   * null when none can be kept (the server is gone or was moved meanwhile).
   */
  pinSshHostKey?: (pin: string) => string | null;
  /** Told the pin of a host key refused for not matching the pinned one. */
  onHostKeyRefused?: (shown: string) => void;
}

/**
 * Accepts `unix:///path`, a bare socket path, `tcp://host:port` (TLS when a CA or client
 * certificate is given, plain HTTP otherwise) and `ssh://user@host[:port]`.
 */
export function dockerFromHost(dockerHost: string, credentials: EngineCredentials = {}): Docker {
  if (dockerHost.startsWith('unix://')) {
    return new Docker({ socketPath: dockerHost.slice('unix://'.length) });
  }
  if (dockerHost.startsWith('/')) return new Docker({ socketPath: dockerHost });
  if (dockerHost.startsWith('tcp://') || dockerHost.startsWith('http://')) {
    const url = new URL(dockerHost.replace(/^tcp:/, 'http:'));
    const tls = Boolean(credentials.tlsCa || credentials.tlsCert);
    return new Docker({
      host: url.hostname,
      port: Number(url.port || (tls ? 2376 : 2375)),
      protocol: tls ? 'https' : 'http',
      ...(credentials.tlsCa && { ca: credentials.tlsCa }),
      ...(credentials.tlsCert && { cert: credentials.tlsCert }),
      ...(credentials.tlsKey && { key: credentials.tlsKey }),
    });
  }
  if (dockerHost.startsWith('ssh://')) {
    const url = new URL(dockerHost);
    return new Docker({
      protocol: 'ssh',
      host: url.hostname,
      port: Number(url.port || 22),
      username: decodeURIComponent(url.username),
      sshOptions: sshOptions(credentials),
    });
  }
  throw new Error(`DOCKER_HOST must be unix:///path, tcp://host:port or ssh://user@host`);
}

/**
 * Login and host key checking. Every connection's host key is checked against the pinned one,
 * after asking the server for a key of the pinned type. With none pinned yet, the first key
 * shown is trusted and pinned (as OpenSSH's `accept-new` does); every later connection,
 * including after a restart, must show that same key.
 */
function sshOptions(credentials: EngineCredentials): Record<string, unknown> {
  let pinned = credentials.sshHostKey ? readPin(credentials.sshHostKey) : null;
  const algorithms = hostKeyAlgorithms(pinned?.type ?? null);
  const hostVerifier = (key: Buffer): boolean => {
    try {
      if (pinned === null) {
        // Without a store (DOCKER_HOST=ssh://…), the pin lasts as long as the process.
        const shown = pinOf(key);
        const kept = credentials.pinSshHostKey ? credentials.pinSshHostKey(shown) : shown;
        if (kept === null) return false;
        pinned = readPin(kept);
      }
      if (sshFingerprint(key) === pinned.fingerprint) return true;
      credentials.onHostKeyRefused?.(pinOf(key));
      return false;
    } catch {
      // Thrown inside ssh2's handshake, an error would escape every handler: refuse instead.
      return false;
    }
  };
  return {
    ...(credentials.sshPrivateKey && { privateKey: credentials.sshPrivateKey }),
    ...(algorithms && { algorithms: { serverHostKey: algorithms } }),
    hostVerifier,
  };
}
