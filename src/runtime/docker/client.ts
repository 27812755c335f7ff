/**
 * A dockerode client from a DOCKER_HOST-style address.
 */
import Docker from 'dockerode';

export interface EngineCredentials {
  /** PEM; with them a tcp:// engine is spoken to over TLS, verifying the server against `ca`. */
  tlsCa?: string | null;
  tlsCert?: string | null;
  tlsKey?: string | null;
  /** PEM private key for ssh:// engines. */
  sshPrivateKey?: string | null;
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
    // Known shortcoming: the SSH host key is not checked, so the first connection trusts
    // whatever answers at that address. Pinning it (a `sshHostKey` field on the server, handed
    // to ssh2's hostVerifier) would close that.
    const url = new URL(dockerHost);
    return new Docker({
      protocol: 'ssh',
      host: url.hostname,
      port: Number(url.port || 22),
      username: decodeURIComponent(url.username),
      ...(credentials.sshPrivateKey && { sshOptions: { privateKey: credentials.sshPrivateKey } }),
    });
  }
  throw new Error(`DOCKER_HOST must be unix:///path, tcp://host:port or ssh://user@host`);
}
