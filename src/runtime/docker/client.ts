/**
 * A dockerode client from a DOCKER_HOST-style address.
 */
import Docker from 'dockerode';
import { sshFingerprint } from '../../domain/server.js';

export interface EngineCredentials {
  /** PEM; with them a tcp:// engine is spoken to over TLS, verifying the server against `ca`. */
  tlsCa?: string | null;
  tlsCert?: string | null;
  tlsKey?: string | null;
  /** PEM private key for ssh:// engines. */
  sshPrivateKey?: string | null;
  /** The `SHA256:` fingerprint the SSH server's host key must have; null trusts the first. */
  sshHostKey?: string | null;
  /** Called with the host key first trusted; returns the key pinned from then on. */
  pinSshHostKey?: (fingerprint: string) => string | null;
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
      sshOptions: {
        ...(credentials.sshPrivateKey && { privateKey: credentials.sshPrivateKey }),
        hostVerifier: hostKeyVerifier(credentials),
      },
    });
  }
  throw new Error(`DOCKER_HOST must be unix:///path, tcp://host:port or ssh://user@host`);
}

/**
 * Checks every SSH connection's host key against the pinned one. With none pinned yet, the
 * first key seen is trusted and pinned (as OpenSSH's `accept-new` does); every later
 * connection, including after a restart, must show that same key.
 */
function hostKeyVerifier(credentials: EngineCredentials): (key: Buffer) => boolean {
  let pinned = credentials.sshHostKey ?? null;
  return (key) => {
    const shown = sshFingerprint(key);
    if (pinned === null) pinned = credentials.pinSshHostKey?.(shown) ?? shown;
    return shown === pinned;
  };
}
