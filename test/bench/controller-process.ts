/**
 * The controller as users run it: built by `npm run build`, started with the node arguments of
 * `npm start` in a child process with a data directory of its own, configured by its
 * environment alone.
 * Its memory is read from /proc/<pid>/status, where nothing of this process is counted.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Store } from '../../src/store/store.js';
import { type ApiClient, apiClient } from '../support/api.js';
import { freePort } from '../support/resp.js';
import { API_TOKEN, benchSettings, waitUntil } from './harness.js';

const execFileAsync = promisify(execFile);

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The type check of src and test takes seconds; minutes means the build hangs. */
const BUILD_TIMEOUT_MS = 5 * 60_000;

/** From the spawn to the first answer of /healthz. */
const START_TIMEOUT_MS = 15_000;

/**
 * From SIGTERM to the exit. The controller lets the step in flight finish, which may be a Redis
 * stop of up to STOP_TIMEOUT_SECONDS (10 s in benchSettings); after this it is killed.
 */
const EXIT_TIMEOUT_MS = 30_000;

/** How much of its output a failure to start shows. */
const FAILURE_LINES = 20;

/** Resident memory of a process, from the kernel's own accounting. */
export interface ProcessMemory {
  /** VmRSS: resident now. */
  rssBytes: number;
  /** VmHWM: the most it has been resident at any time since it started. */
  peakRssBytes: number;
}

export interface ControllerProcess {
  pid: number;
  client: ApiClient;
  /** Its stdout and stderr: pino's JSON lines, and a failure to start in plain text. */
  logFile: string;
  /** Resolves once /healthz answers; fails if the process exits or takes too long. */
  waitAnswering(): Promise<void>;
  memory(): ProcessMemory;
  /**
   * SIGTERM to its pid, then waits for the exit (SIGKILL after EXIT_TIMEOUT_MS); says how it
   * ended. Later calls wait for the same exit.
   */
  stop(): Promise<string>;
}

/**
 * Runs `npm run build` in the repository; returns the node arguments `npm start` runs the built
 * controller with (its flags, then the entry point).
 */
export async function buildController(): Promise<string[]> {
  try {
    await execFileAsync('npm', ['run', '-s', 'build'], {
      cwd: ROOT,
      timeout: BUILD_TIMEOUT_MS,
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    const output = `${stdout}${stderr}`.trim() || (error as Error).message;
    throw new Error(`npm run build failed:\n${output}`, { cause: error });
  }
  return startArguments();
}

/** The arguments after `node` in package.json's start script. */
function startArguments(): string[] {
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
    scripts?: { start?: string };
  };
  const [command, ...args] = (manifest.scripts?.start ?? '').trim().split(/\s+/);
  if (command !== 'node' || !args.at(-1)?.endsWith('.js')) {
    throw new Error(`the start script is not "node [flags] <file>.js": ${manifest.scripts?.start}`);
  }
  return args;
}

/**
 * Starts `node <nodeArgs>` with the benchmark's settings, on a port that was free a moment ago
 * (the controller logs the port it bound only at info level, and the benchmark runs it at warn).
 * Returns at once, so that the caller holds the process even if it never answers.
 */
export async function startControllerProcess(
  nodeArgs: string[],
  dockerHost: string,
  dataDir: string,
): Promise<ControllerProcess> {
  const command = `node ${nodeArgs.join(' ')}`;
  const port = await freePort();
  const logFile = path.join(dataDir, 'controller.log');
  const log = fs.openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, nodeArgs, {
      cwd: ROOT,
      // Its settings and nothing else of this process's environment: no loader flags of tsx,
      // and no DOCKER_HOST from the shell that could point it at another engine.
      env: { PATH: process.env.PATH ?? '', ...benchSettings(dockerHost, dataDir, port) },
      stdio: ['ignore', log, log],
    });
  } finally {
    fs.closeSync(log);
  }

  let ended: string | null = null;
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => {
      ended = signal ? `signal ${signal}` : `code ${code}`;
      resolve(ended);
    });
    child.once('error', (error) => {
      ended = `error ${error.message}`;
      resolve(ended);
    });
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${command} did not start: ${await exited}`);

  const client = apiClient(`http://127.0.0.1:${port}`, API_TOKEN);
  let stopping: Promise<string> | null = null;
  return {
    pid,
    client,
    logFile,
    waitAnswering: async () => {
      const answers = async (): Promise<boolean> => {
        if (ended !== null) {
          const output = lastRawLines(logFile, FAILURE_LINES).join('\n');
          throw new Error(`${command} exited (${ended}) before answering:\n${output}`);
        }
        const response = await client.get('/healthz', {}).catch(() => null);
        return response?.status === 200;
      };
      await waitUntil(`for ${command} to answer /healthz`, answers, START_TIMEOUT_MS);
    },
    memory: () => processMemory(pid),
    stop: () => {
      stopping ??= (async () => {
        if (ended !== null) return ended;
        child.kill('SIGTERM');
        let killed = false;
        const timer = setTimeout(() => {
          killed = true;
          child.kill('SIGKILL');
        }, EXIT_TIMEOUT_MS);
        const how = await exited;
        clearTimeout(timer);
        return killed ? `${how}, killed after ${EXIT_TIMEOUT_MS} ms` : how;
      })();
      return stopping;
    },
  };
}

/**
 * The owner id a controller labels its containers and volumes with, read from its store. Only
 * once the process has exited: the store is then opened by one process at a time.
 */
export function ownerIdOf(dataDir: string): string {
  const store = new Store({ dataDir });
  try {
    return store.ownerId();
  } finally {
    store.close();
  }
}

/** VmRSS and VmHWM of a running process (Linux only). */
export function processMemory(pid: number): ProcessMemory {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const bytes = (field: string): number => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
    if (!match?.[1]) throw new Error(`/proc/${pid}/status has no ${field} line`);
    return Number(match[1]) * 1024;
  };
  return { rssBytes: bytes('VmRSS'), peakRssBytes: bytes('VmHWM') };
}

function lastRawLines(file: string, count: number): string[] {
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  return text.trimEnd().split('\n').slice(-count);
}
