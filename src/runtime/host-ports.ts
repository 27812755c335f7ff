/**
 * Whether a TCP port is free on this host, and if not, which process holds it. Used to refuse
 * an external port up front, with a useful message, when the engine runs on this same host.
 */
import fs from 'node:fs/promises';
import net from 'node:net';

export type PortProbeResult = { free: true } | { free: false; holder: string };

export type PortProbe = (port: number) => Promise<PortProbeResult>;

const TCP_LISTEN = '0A';

/** A probe binding `host`; an address that is not this host's cannot be judged and counts free. */
export function hostPortProbe(host: string): PortProbe {
  return async (port) => {
    const outcome = await tryListen(host, port);
    if (outcome !== 'EADDRINUSE') return { free: true };
    return { free: false, holder: (await listenerName(port)) ?? 'another program on the host' };
  };
}

function tryListen(host: string, port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(null)));
  });
}

/** Finds the listening socket's inode in /proc/net, then the process holding it (Linux only). */
async function listenerName(port: number): Promise<string | null> {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await fs.readFile(table, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const columns = line.trim().split(/\s+/);
      const local = columns[1];
      if (!local || columns[3] !== TCP_LISTEN) continue;
      if (Number.parseInt(local.split(':')[1] ?? '', 16) === port && columns[9]) {
        inodes.add(columns[9]);
      }
    }
  }
  if (inodes.size === 0) return null;

  const pids = (await fs.readdir('/proc').catch(() => [])).filter((name) => /^\d+$/.test(name));
  for (const pid of pids) {
    const fds = await fs.readdir(`/proc/${pid}/fd`).catch(() => []);
    for (const fd of fds) {
      const target = await fs.readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (!inode || !inodes.has(inode)) continue;
      const command = (await fs.readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim();
      if (command === 'docker-proxy') return 'a container published by Docker (docker-proxy)';
      return `${command || 'a process'} (pid ${pid})`;
    }
  }
  return null;
}
