/**
 * A dockerode client from a DOCKER_HOST-style address.
 */
import Docker from 'dockerode';

/** Accepts `unix:///path`, a bare socket path, or `tcp://host:port` (plain HTTP). */
export function dockerFromHost(dockerHost: string): Docker {
  if (dockerHost.startsWith('unix://')) {
    return new Docker({ socketPath: dockerHost.slice('unix://'.length) });
  }
  if (dockerHost.startsWith('/')) return new Docker({ socketPath: dockerHost });
  if (dockerHost.startsWith('tcp://') || dockerHost.startsWith('http://')) {
    const url = new URL(dockerHost.replace(/^tcp:/, 'http:'));
    return new Docker({ host: url.hostname, port: Number(url.port || 2375), protocol: 'http' });
  }
  throw new Error(`DOCKER_HOST must be unix:///path or tcp://host:port, got "${dockerHost}"`);
}
