/**
 * The private dockerd: started detached with its own socket, data root and pid file under the
 * engine directory, told to use a dead proxy so that no pull can reach a registry, and stopped
 * by the pid it wrote. Liveness checks read /proc, so a stale pid, or one reused by another
 * program, is never signalled. Given a bridge of its own, it can run beside a daemon on docker0.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { ensureBridge, removeCreatedBridge } from './bridge.js';
import { DEFAULT_BRIDGE, type EngineOptions, type EnginePaths, enginePaths } from './config.js';
import { type DockerdSettings, runningDockerds, sharedWith } from './dockerds.js';
import { describeError } from './errors.js';
import { ensureCommands, requireRoot } from './host.js';
import { processCommandLine, processesNamed, processState, sleep, terminate } from './processes.js';

/** The discard port on loopback: nothing listens there, so any pull fails at once. */
const DEAD_PROXY = 'http://127.0.0.1:9';
/** How long a fresh dockerd may take to answer /_ping; first starts create its data root. */
const DEFAULT_START_TIMEOUT_MS = 60_000;
/** SIGTERM grace before SIGKILL; dockerd itself gives containers 15 s to stop. */
const STOP_GRACE_MS = 20_000;
const POLL_INTERVAL_MS = 200;
const PING_TIMEOUT_MS = 2_000;

/**
 * Stops the dockerd named by the directory's pid file, and no other, then removes the bridge
 * this tool created for it, if any; false when no daemon was running.
 */
export async function stopEngine(dir: string, log: (message: string) => void): Promise<boolean> {
  const paths = enginePaths(dir);
  const stopped = await stopDaemon(paths, log);
  await removeCreatedBridge(paths, log);
  return stopped;
}

async function stopDaemon(paths: EnginePaths, log: (message: string) => void): Promise<boolean> {
  const pid = await readDaemonPid(paths.pidFile);
  if (pid === null) {
    log(`no running dockerd is named by ${paths.pidFile}`);
    return false;
  }

  log(`stopping dockerd (pid ${pid})`);
  const gone = await terminate(pid, STOP_GRACE_MS, () =>
    log(`dockerd (pid ${pid}) did not exit within ${STOP_GRACE_MS / 1000} s; sending SIGKILL`),
  );
  if (!gone) throw new Error(`dockerd (pid ${pid}) survived SIGKILL; see ${paths.logFile}`);
  await stopLeftoverShims(paths, log);
  return true;
}

/**
 * Container shims of this engine that outlived it: one is left when a container start races
 * the daemon's shutdown. They are recognised by the containerd socket under our exec root.
 */
async function stopLeftoverShims(
  paths: EnginePaths,
  log: (message: string) => void,
): Promise<void> {
  const address = path.join(paths.execRoot, 'containerd', 'containerd.sock');
  for (const pid of await processesNamed('containerd-shim')) {
    const commandLine = await processCommandLine(pid);
    const at = commandLine?.args.indexOf('-address') ?? -1;
    if (at < 0 || commandLine?.args[at + 1] !== address) continue;
    log(`stopping a container shim dockerd left behind (pid ${pid})`);
    await terminate(pid, 5_000);
  }
}

/** Whether a Docker engine answers GET /_ping on the socket. */
export function pingEngine(socketPath: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    // No agent: a pooled connection could still point at a daemon that has since restarted.
    const options = { socketPath, path: '/_ping', agent: false, timeout: PING_TIMEOUT_MS };
    const request = http.get(options, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    // A daemon that accepts but does not answer is treated like a missing one: not usable.
    request.on('timeout', () => request.destroy());
    request.on('error', (error: NodeJS.ErrnoException) => {
      // ENOENT: no socket yet. ECONNREFUSED: a socket left by a daemon that died.
      // ECONNRESET: our own timeout above, or a daemon going away mid-request.
      if (['ENOENT', 'ECONNREFUSED', 'ECONNRESET'].includes(error.code ?? '')) resolve(false);
      else reject(new Error(`cannot reach the engine socket ${socketPath}`, { cause: error }));
    });
  });
}

/** Starts dockerd, or waits for one already starting; true when this call started it. */
export async function startDaemon(paths: EnginePaths, options: EngineOptions): Promise<boolean> {
  const timeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  const starting = await readDaemonPid(paths.pidFile);
  if (starting !== null) {
    options.log(`dockerd (pid ${starting}) is running but not answering yet; waiting`);
    await waitForSocket(paths, timeoutMs, async () =>
      (await processState(starting)) === null ? 'exited before answering' : null,
    );
    return false;
  }

  const dockerd = { command: 'dockerd', debianPackage: 'docker.io' };
  const commands = await ensureCommands([dockerd], options.log);
  requireRoot('root is needed to start the Docker engine; run this as root');

  await refuseSharedDaemons(paths, options);

  await fs.mkdir(paths.dir, { recursive: true });
  const args = [
    ...['--host', `unix://${paths.socket}`, '--data-root', paths.dataRoot],
    ...['--exec-root', paths.execRoot, '--pidfile', paths.pidFile],
    // Leave the host firewall alone; tests reach containers through 127.0.0.1 ports instead.
    ...['--iptables=false', '--ip-masq=false'],
  ];
  if (options.bridge !== undefined) {
    await ensureBridge(options.bridge, paths, options.log);
    // No --bip: dockerd refuses it together with --bridge, and takes the bridge's own address.
    // Not covered: user-defined networks still come from dockerd's default pools (172.18.0.0/16
    // onwards) in both engines, so each would give its first such network the same subnet. The
    // tool and the controller create none; a --default-address-pool per engine would fix it.
    args.push(`--bridge=${options.bridge.name}`);
    // The daemon's ID comes from a key, by default the host-wide /etc/docker/key.json, which
    // would give two engines one ID. dockerd 20.10 takes another path only from a config file,
    // which also keeps a host daemon.json out. The default engine keeps its key, and its ID.
    const config = { 'deprecated-key-path': paths.keyFile };
    await fs.writeFile(paths.configFile, `${JSON.stringify(config, null, 2)}\n`);
    args.push('--config-file', paths.configFile);
  }
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy']) {
    env[name] = DEAD_PROXY;
  }
  // Any NO_PROXY entry could let a pull bypass the dead proxy.
  delete env.NO_PROXY;
  delete env.no_proxy;

  options.log(`starting dockerd on ${paths.socket}; log in ${paths.logFile}`);
  const logFd = openSync(paths.logFile, 'a');
  let exited: string | null = null;
  try {
    const child = spawn(commands.dockerd ?? 'dockerd', args, {
      detached: true,
      stdio: ['ignore', logFd, logFd],
      env,
    });
    child.on('error', (error) => {
      exited = `could not be run: ${error.message}`;
    });
    child.on('exit', (code, signalName) => {
      exited = `exited with ${signalName ?? `code ${code}`}`;
    });
    child.unref();
  } finally {
    closeSync(logFd);
  }

  try {
    await waitForSocket(paths, timeoutMs, async () => exited);
  } catch (error) {
    // A daemon that never became ready would block the next start through its pid file.
    if (exited === null) await stopDaemon(paths, options.log);
    await removeCreatedBridge(paths, options.log);
    throw error;
  }
  options.log(`dockerd is answering on ${paths.socket}`);
  return true;
}

/**
 * Refuses to start beside a daemon that would fight ours: one on the same bridge (docker0 for
 * an engine without ENGINE_BRIDGE), or one using our data root, exec root or pid file.
 */
async function refuseSharedDaemons(paths: EnginePaths, options: EngineOptions): Promise<void> {
  const ours: DockerdSettings = {
    bridge: options.bridge?.name ?? DEFAULT_BRIDGE,
    dataRoot: paths.dataRoot,
    execRoot: paths.execRoot,
    pidFile: paths.pidFile,
  };
  const clashes = (await runningDockerds()).flatMap(({ pid, settings }) => {
    const shared = sharedWith(ours, settings);
    return shared.length === 0 ? [] : [`pid ${pid} uses ${shared.join(' and ')}`];
  });
  if (clashes.length === 0) return;

  throw new Error(
    `another dockerd is running (${clashes.join('; ')}) and ${paths.socket} does not answer; ` +
      'stop it (a docker.io service started by its package counts), point ENGINE_DIR at the ' +
      'directory it was started with, or give this engine a bridge of its own with ' +
      'ENGINE_BRIDGE and ENGINE_BIP',
  );
}

/** Polls /_ping until it answers; `failure` reports a daemon that is already gone. */
async function waitForSocket(
  paths: EnginePaths,
  timeoutMs: number,
  failure: () => Promise<string | null>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await pingEngine(paths.socket)) return;
    const late = Date.now() > deadline ? `gave no answer in ${timeoutMs} ms` : null;
    const reason = (await failure()) ?? late;
    if (reason !== null) {
      const tail = await logTail(paths.logFile);
      throw new Error(`dockerd on ${paths.socket} ${reason}; end of ${paths.logFile}:\n${tail}`);
    }
    await sleep(POLL_INTERVAL_MS);
  }
}

/** The pid in the pid file when it names a live dockerd; a stale or reused pid gives null. */
export async function readDaemonPid(pidFile: string): Promise<number | null> {
  let text: string;
  try {
    text = await fs.readFile(pidFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const pid = Number.parseInt(text.trim(), 10);
  if (!Number.isSafeInteger(pid) || pid <= 0) return null;
  return (await processState(pid))?.comm === 'dockerd' ? pid : null;
}

/** The last lines of the daemon log, read from its end since it grows across restarts. */
async function logTail(logFile: string): Promise<string> {
  const tailBytes = 4096;
  try {
    const handle = await fs.open(logFile, 'r');
    try {
      const { size } = await handle.stat();
      const buffer = Buffer.alloc(Math.min(size, tailBytes));
      await handle.read(buffer, 0, buffer.length, size - buffer.length);
      return buffer.toString('utf8').split('\n').slice(-20).join('\n');
    } finally {
      await handle.close();
    }
  } catch (error) {
    return `(cannot read the log: ${describeError(error)})`;
  }
}
