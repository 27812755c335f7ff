/**
 * `npm run engine`: starts, or reuses, the private Docker engine that tests and local runs talk
 * to, and builds the local Redis image inside it (DESIGN.md §7). No registry can be reached, so
 * the engine is told to use a dead proxy and the image is assembled from the host's Debian
 * binaries instead of being pulled.
 *
 * Stdout carries only `export` lines, so `eval "$(npm run -s engine)"` works; all progress goes
 * to stderr. `npm run engine -- stop` stops the engine, `npm run engine -- status` reports on it.
 */
import { execFile, spawn } from 'node:child_process';
import { closeSync, createReadStream, openSync, realpathSync } from 'node:fs';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export const DEFAULT_ENGINE_DIR = '/var/tmp/redis-controller-engine';
export const DEFAULT_REDIS_IMAGE = 'redis-controller/redis:local';

/** The discard port on loopback: nothing listens there, so any pull fails at once. */
const DEAD_PROXY = 'http://127.0.0.1:9';
/** How long a fresh dockerd may take to answer /_ping; first starts create its data root. */
const DEFAULT_START_TIMEOUT_MS = 60_000;
/** SIGTERM grace before SIGKILL; dockerd itself gives containers 15 s to stop. */
const STOP_GRACE_MS = 20_000;
const POLL_INTERVAL_MS = 200;
const PING_TIMEOUT_MS = 2_000;
/** Owner of /data in the image, matching the `redis` user written into its /etc/passwd. */
const REDIS_UID = 999;

const IMAGE_CHANGES = [
  'CMD ["redis-server"]',
  'ENV PATH=/usr/local/bin:/usr/bin:/bin',
  'WORKDIR /data',
];

export interface EngineOptions {
  /** Holds the socket, data root, exec root, pid file and log of the private daemon. */
  dir: string;
  redisImage: string;
  /** Progress lines for a person; never written to stdout. */
  log: (message: string) => void;
  startTimeoutMs?: number;
}

export interface Engine {
  dir: string;
  /** `unix://` URL of the engine socket, as DOCKER_HOST expects it. */
  dockerHost: string;
  redisImage: string;
  /** True when this call started dockerd, so the caller knows whether it should stop it. */
  startedByUs: boolean;
}

export interface EnginePaths {
  dir: string;
  socket: string;
  dataRoot: string;
  execRoot: string;
  pidFile: string;
  logFile: string;
}

export function enginePaths(dir: string): EnginePaths {
  const root = path.resolve(dir);
  return {
    dir: root,
    socket: path.join(root, 'docker.sock'),
    dataRoot: path.join(root, 'root'),
    execRoot: path.join(root, 'exec'),
    pidFile: path.join(root, 'dockerd.pid'),
    logFile: path.join(root, 'dockerd.log'),
  };
}

/** The CLI's and the test setup's configuration: ENGINE_DIR and REDIS_IMAGE, with defaults. */
export function engineOptionsFromEnv(env: NodeJS.ProcessEnv): EngineOptions {
  return {
    dir: env.ENGINE_DIR || DEFAULT_ENGINE_DIR,
    redisImage: env.REDIS_IMAGE || DEFAULT_REDIS_IMAGE,
    log: (message) => process.stderr.write(`engine: ${message}\n`),
  };
}

/** Starts the engine unless one already answers on the socket, then makes sure of the image. */
export async function ensureEngine(options: EngineOptions): Promise<Engine> {
  const paths = enginePaths(options.dir);
  const engine: Engine = {
    dir: paths.dir,
    dockerHost: `unix://${paths.socket}`,
    redisImage: options.redisImage,
    startedByUs: false,
  };

  if (await pingEngine(paths.socket)) {
    options.log(`reusing the engine at ${paths.socket}`);
  } else {
    engine.startedByUs = await startDaemon(paths, options);
  }

  try {
    await ensureImage(paths.socket, options.redisImage, options.log);
  } catch (error) {
    // An engine we just started for nothing would be left behind by a failing test setup.
    if (engine.startedByUs) await stopEngine(paths.dir, options.log);
    throw error;
  }
  return engine;
}

/** Stops the dockerd named by the pid file; false when none was running. */
export async function stopEngine(dir: string, log: (message: string) => void): Promise<boolean> {
  const paths = enginePaths(dir);
  const pid = await readDaemonPid(paths.pidFile);
  if (pid === null) {
    log(`no running dockerd is named by ${paths.pidFile}`);
    return false;
  }

  log(`stopping dockerd (pid ${pid})`);
  if (!signal(pid, 'SIGTERM') || (await waitForExit(pid, STOP_GRACE_MS))) return true;

  log(`dockerd (pid ${pid}) did not exit within ${STOP_GRACE_MS / 1000} s; sending SIGKILL`);
  if (!signal(pid, 'SIGKILL') || (await waitForExit(pid, 5_000))) return true;
  throw new Error(`dockerd (pid ${pid}) survived SIGKILL; see ${paths.logFile}`);
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

/** An error's message followed by the messages of its causes, for one-line reports. */
export function describeError(error: unknown): string {
  const parts: string[] = [];
  for (let current = error; current !== undefined; ) {
    parts.push(current instanceof Error ? current.message : String(current));
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join(': ');
}

/** Starts dockerd, or waits for one already starting; true when this call started it. */
async function startDaemon(paths: EnginePaths, options: EngineOptions): Promise<boolean> {
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

  // A second daemon would fight the first over the docker0 bridge and its addresses.
  const others = await runningDockerds();
  if (others.length > 0) {
    throw new Error(
      `another dockerd is running (pid ${others.join(', ')}) ` +
        `and ${paths.socket} does not answer; ` +
        'stop it (a docker.io service started by its package counts), or point ENGINE_DIR ' +
        'at the directory it was started with',
    );
  }

  await fs.mkdir(paths.dir, { recursive: true });
  const args = [
    ...['--host', `unix://${paths.socket}`, '--data-root', paths.dataRoot],
    ...['--exec-root', paths.execRoot, '--pidfile', paths.pidFile],
    // Leave the host firewall alone; tests reach containers through 127.0.0.1 ports instead.
    ...['--iptables=false', '--ip-masq=false'],
  ];
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
    if (exited === null) await stopEngine(paths.dir, options.log);
    throw error;
  }
  options.log(`dockerd is answering on ${paths.socket}`);
  return true;
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

/** Builds and imports the Redis image unless the engine already has it. */
async function ensureImage(
  socketPath: string,
  image: string,
  log: (message: string) => void,
): Promise<void> {
  const { repo, tag } = splitImageReference(image);
  if (await imageExists(socketPath, image)) {
    log(`image ${image} is present`);
    return;
  }

  const commands = await ensureCommands(
    [
      { command: 'redis-server', debianPackage: 'redis-server' },
      { command: 'redis-cli', debianPackage: 'redis-tools' },
    ],
    log,
  );
  log(`building ${image} from the host's redis-server and redis-cli`);
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'redis-image-'));
  try {
    const root = path.join(work, 'rootfs');
    await buildRootfs(root, [
      [commands['redis-server'] ?? '/usr/bin/redis-server', '/usr/bin/redis-server'],
      [commands['redis-cli'] ?? '/usr/bin/redis-cli', '/usr/bin/redis-cli'],
      ['/bin/sh', '/bin/sh'],
    ]);
    const tarFile = path.join(work, 'rootfs.tar');
    await packRootfs(root, tarFile);

    const query = new URLSearchParams({ fromSrc: '-', repo, tag });
    for (const change of IMAGE_CHANGES) query.append('changes', change);
    const { size } = await fs.stat(tarFile);
    const res = await engineRequest(socketPath, 'POST', `/images/create?${query}`, {
      stream: createReadStream(tarFile),
      length: size,
    });
    // The engine answers 200 and reports a failed import inside its progress stream.
    const failed = res.body.split('\n').find((line) => line.includes('"error"'));
    if (res.statusCode !== 200 || failed !== undefined) {
      throw new Error(`the engine refused to import ${image}: ${failed ?? res.body}`);
    }
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }

  if (!(await imageExists(socketPath, image))) {
    throw new Error(`the engine reported importing ${image}, but does not list it`);
  }
  log(`image ${image} is built`);
}

/** Copies each [host source, image path] binary and every library ldd lists for it. */
async function buildRootfs(root: string, binaries: Array<[string, string]>): Promise<void> {
  const libraries = new Set<string>();
  for (const [source, target] of binaries) {
    await copyInto(root, source, target);
    for (const library of await sharedLibraries(source)) libraries.add(library);
  }
  for (const library of libraries) await copyInto(root, library, library);

  await fs.mkdir(path.join(root, 'data'), { recursive: true });
  await fs.mkdir(path.join(root, 'tmp'), { recursive: true });
  await fs.chmod(path.join(root, 'tmp'), 0o1777);
  await fs.mkdir(path.join(root, 'etc'), { recursive: true });
  await fs.writeFile(
    path.join(root, 'etc/passwd'),
    `root:x:0:0:root:/root:/bin/sh\nredis:x:${REDIS_UID}:${REDIS_UID}:redis:/data:/bin/sh\n`,
  );
  await fs.writeFile(path.join(root, 'etc/group'), `root:x:0:\nredis:x:${REDIS_UID}:\n`);
}

/** Tars the tree owned by root, except /data, which belongs to the redis user. */
async function packRootfs(root: string, tarFile: string): Promise<void> {
  // --mode makes every directory traversable whatever the umask and mkdtemp's 0700 were.
  const common = ['--file', tarFile, '--directory', root, '--numeric-owner', '--mode=u+rwX,go+rX'];
  await execFileAsync('tar', [
    '--create',
    ...common,
    '--owner=0',
    '--group=0',
    '--anchored',
    '--exclude=./data',
    '.',
  ]);
  const owner = [`--owner=${REDIS_UID}`, `--group=${REDIS_UID}`];
  await execFileAsync('tar', ['--append', ...common, ...owner, './data']);
}

/** Absolute paths ldd resolves for a binary, the dynamic loader included. */
async function sharedLibraries(binary: string): Promise<string[]> {
  const { stdout } = await execFileAsync('ldd', [binary]);
  const libraries: string[] = [];
  for (const line of stdout.split('\n')) {
    if (line.includes('not found')) throw new Error(`ldd cannot resolve a library of ${binary}`);
    // `libc.so.6 => /lib/.../libc.so.6 (0x...)` or, for the loader, `/lib64/ld-....so.2 (0x...)`.
    const match = /(?:=>\s*|^\s*)(\/\S+)\s+\(0x/.exec(line);
    if (match?.[1] !== undefined) libraries.push(match[1]);
  }
  return libraries;
}

/** Copies a file, following symlinks, to the same absolute path under root, keeping its mode. */
async function copyInto(root: string, source: string, target: string): Promise<void> {
  const destination = path.join(root, target);
  await fs.mkdir(path.dirname(destination), { recursive: true });
  await fs.copyFile(source, destination);
  await fs.chmod(destination, (await fs.stat(source)).mode & 0o7777);
}

async function imageExists(socketPath: string, image: string): Promise<boolean> {
  const res = await engineRequest(socketPath, 'GET', `/images/${image}/json`);
  if (res.statusCode === 200) return true;
  if (res.statusCode === 404) return false;
  throw new Error(`the engine answered ${res.statusCode} about image ${image}: ${res.body}`);
}

function splitImageReference(image: string): { repo: string; tag: string } {
  const match = /^([a-z0-9][a-z0-9._/-]*?)(?::([\w][\w.-]{0,127}))?$/.exec(image);
  if (match?.[1] === undefined) throw new Error(`REDIS_IMAGE is not an image name: ${image}`);
  return { repo: match[1], tag: match[2] ?? 'latest' };
}

interface ApiResponse {
  statusCode: number;
  body: string;
}

function engineRequest(
  socketPath: string,
  method: string,
  requestPath: string,
  upload?: { stream: Readable; length: number },
): Promise<ApiResponse> {
  return new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = upload
      ? { 'Content-Type': 'application/x-tar', 'Content-Length': upload.length }
      : {};
    const options = { socketPath, method, path: requestPath, headers, agent: false };
    const request = http.request(options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        resolve({ statusCode: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    request.on('error', (error) => {
      reject(new Error(`${method} ${requestPath} on ${socketPath} failed`, { cause: error }));
    });
    if (upload) {
      upload.stream.on('error', (error) => request.destroy(error));
      upload.stream.pipe(request);
    } else {
      request.end();
    }
  });
}

interface Requirement {
  command: string;
  debianPackage: string;
}

/** Resolves each command's path, installing its Debian package with apt-get when it is missing. */
async function ensureCommands(
  requirements: Requirement[],
  log: (message: string) => void,
): Promise<Record<string, string>> {
  const missing: Requirement[] = [];
  for (const requirement of requirements) {
    if ((await findExecutable(requirement.command)) === null) missing.push(requirement);
  }
  if (missing.length > 0) {
    const packages = missing.map((requirement) => requirement.debianPackage);
    requireRoot(
      `${missing.map((r) => r.command).join(', ')} missing; run this as root to install them ` +
        `with apt-get, or install the Debian packages ${packages.join(', ')} yourself`,
    );
    log(`installing ${packages.join(', ')} with apt-get`);
    await runToStderr('apt-get', ['update']);
    await runToStderr('apt-get', ['install', '-y', ...packages]);
  }

  const found: Record<string, string> = {};
  for (const { command, debianPackage } of requirements) {
    const location = await findExecutable(command);
    if (location === null)
      throw new Error(`${command} is still missing after installing ${debianPackage}`);
    found[command] = location;
  }
  return found;
}

/** Looks in PATH and the sbin directories, which a non-root PATH often lacks. */
async function findExecutable(command: string): Promise<string | null> {
  const directories = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  directories.push('/usr/local/sbin', '/usr/sbin', '/sbin', '/usr/bin', '/bin');
  for (const directory of directories) {
    const candidate = path.join(directory, command);
    try {
      await fs.access(candidate, fs.constants.X_OK);
      return candidate;
    } catch (error) {
      // Absent here, or present but not executable by us: keep looking further along.
      const code = (error as NodeJS.ErrnoException).code ?? '';
      if (!['ENOENT', 'ENOTDIR', 'EACCES'].includes(code)) throw error;
    }
  }
  return null;
}

/** Throws the given explanation unless this process runs as root. */
function requireRoot(explanation: string): void {
  if (process.getuid?.() !== 0) throw new Error(explanation);
}

/** Runs a command with its output on our stderr, so stdout stays clean for `eval`. */
function runToStderr(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['ignore', 2, 2],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    child.on('error', reject);
    child.on('exit', (code, signalName) => {
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args.join(' ')} failed with ${signalName ?? code}`));
    });
  });
}

/** The pid in the pid file when it names a live dockerd; a stale or reused pid gives null. */
async function readDaemonPid(pidFile: string): Promise<number | null> {
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

/** Live dockerd processes on this host, from /proc. */
async function runningDockerds(): Promise<number[]> {
  const pids = (await fs.readdir('/proc')).filter((name) => /^\d+$/.test(name)).map(Number);
  const found: number[] = [];
  for (const pid of pids) {
    if ((await processState(pid))?.comm === 'dockerd') found.push(pid);
  }
  return found;
}

/** Name of a live process; null when it is gone or a zombie waiting to be reaped. */
async function processState(pid: number): Promise<{ comm: string } | null> {
  let stat: string;
  try {
    stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    // ESRCH: the process ended between listing /proc and reading it.
    if (['ENOENT', 'ESRCH'].includes((error as NodeJS.ErrnoException).code ?? '')) return null;
    throw error;
  }
  // `pid (comm) state ...`, where comm itself may contain parentheses.
  const close = stat.lastIndexOf(')');
  const state = stat.charAt(close + 2);
  if (state === 'Z' || state === 'X') return null;
  return { comm: stat.slice(stat.indexOf('(') + 1, close) };
}

/** Sends a signal; false when the process was already gone. */
function signal(pid: number, name: NodeJS.Signals): boolean {
  try {
    process.kill(pid, name);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await processState(pid)) === null) return true;
    await sleep(POLL_INTERVAL_MS);
  }
  return (await processState(pid)) === null;
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

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A `export NAME=value` line, quoted only when the value needs it in a POSIX shell. */
function exportLine(name: string, value: string): string {
  const quoted = /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
  return `export ${name}=${quoted}\n`;
}

async function main(args: string[]): Promise<number> {
  const options = engineOptionsFromEnv(process.env);
  const command = args[0] ?? 'start';

  if (command === 'start') {
    const engine = await ensureEngine(options);
    process.stdout.write(
      exportLine('DOCKER_HOST', engine.dockerHost) + exportLine('REDIS_IMAGE', engine.redisImage),
    );
    return 0;
  }
  if (command === 'stop') {
    await stopEngine(options.dir, options.log);
    return 0;
  }
  if (command === 'status') {
    const paths = enginePaths(options.dir);
    const pid = await readDaemonPid(paths.pidFile);
    if (await pingEngine(paths.socket)) {
      process.stdout.write(`running: dockerd pid ${pid ?? 'unknown'} on unix://${paths.socket}\n`);
      return 0;
    }
    const detail = pid === null ? '' : ` (dockerd pid ${pid} is alive but does not answer)`;
    process.stdout.write(`not running: nothing answers on ${paths.socket}${detail}\n`);
    // 3 is the LSB status code for "not running", so scripts can tell it from a failure.
    return 3;
  }
  process.stderr.write('usage: npm run engine [-- start|stop|status]\n');
  return 2;
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
}

if (isEntryPoint()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`engine: ${describeError(error)}\n`);
      process.exitCode = 1;
    },
  );
}
