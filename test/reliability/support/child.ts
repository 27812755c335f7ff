/**
 * The controller as a separate process (`node --import tsx src/main.ts`), so a test can kill it
 * with SIGKILL or stop it with SIGTERM by its pid and start it again on the same data directory.
 * Requests go over plain HTTP with a fresh connection each, so none is ever sent on a socket of
 * a process that was killed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** How long a started controller may take to answer /healthz (tsx compiles on start). */
const START_TIMEOUT_MS = 30_000;

/** How long a single API request may take before it counts as failed. */
const REQUEST_TIMEOUT_MS = 15_000;

export interface ApiAnswer {
  status: number;
  body: unknown;
}

export interface ChildOptions {
  dataDir: string;
  port: number;
  dockerHost: string;
  token: string;
  /** Extra variables, for example STOP_TIMEOUT_SECONDS. */
  env?: Record<string, string>;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class ChildController {
  readonly logFile: string;
  /** Exits the test did not cause, each with the tail of the log; a test asserts it is empty. */
  readonly unexpectedExits: string[] = [];
  private child: ChildProcess | null = null;
  private exited: Promise<ExitInfo> | null = null;
  private expectingExit = false;
  private starts = 0;

  constructor(private readonly options: ChildOptions) {
    this.logFile = path.join(options.dataDir, 'controller.log');
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.options.port}`;
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  get alive(): boolean {
    return this.child !== null;
  }

  /** Spawns the controller and waits until it answers /healthz. */
  async start(): Promise<void> {
    if (this.child) throw new Error('the controller child is already running');
    this.starts++;
    const log = fs.openSync(this.logFile, 'a');
    fs.writeSync(log, `--- start #${this.starts} at ${new Date().toISOString()}\n`);
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: REPO_ROOT,
      // Only what the controller needs: nothing of the test runner's environment leaks in.
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? '/tmp',
        HOST: '127.0.0.1',
        PORT: String(this.options.port),
        DATA_DIR: this.options.dataDir,
        DOCKER_HOST: this.options.dockerHost,
        PUBLISH_HOST: '127.0.0.1',
        API_TOKEN: this.options.token,
        LOG_LEVEL: 'info',
        READY_TIMEOUT_MS: '30000',
        RESYNC_INTERVAL_MS: '2000',
        ...this.options.env,
      },
      stdio: ['ignore', log, log],
    });
    fs.closeSync(log);
    this.child = child;
    this.expectingExit = false;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        if (this.child === child) this.child = null;
        if (!this.expectingExit) {
          this.unexpectedExits.push(
            `controller pid ${child.pid} exited on its own (code ${code}, signal ${signal}); ` +
              `log tail:\n${this.logTail(20)}`,
          );
        }
        resolve({ code, signal });
      });
    });
    await this.waitHealthy();
  }

  /** SIGKILL by pid, the crash under test; resolves once the process is gone. */
  async kill9(): Promise<void> {
    const pid = this.child?.pid;
    if (!pid || !this.exited) return;
    this.expectingExit = true;
    process.kill(pid, 'SIGKILL');
    await this.exited;
  }

  /** SIGTERM by pid; resolves with how and how fast the process ended, or null on timeout. */
  async terminate(timeoutMs: number): Promise<(ExitInfo & { elapsedMs: number }) | null> {
    const pid = this.child?.pid;
    if (!pid || !this.exited) return null;
    this.expectingExit = true;
    const started = Date.now();
    process.kill(pid, 'SIGTERM');
    const timeout = new Promise<null>((resolve) => setTimeout(() => resolve(null), timeoutMs));
    const exit = await Promise.race([this.exited, timeout]);
    return exit && { ...exit, elapsedMs: Date.now() - started };
  }

  /** Stops the process whatever state it is in: SIGTERM, then SIGKILL by pid after 20 s. */
  async stop(): Promise<void> {
    if (!this.child) return;
    if ((await this.terminate(20_000)) === null) await this.kill9();
  }

  async get(pathAndQuery: string): Promise<ApiAnswer> {
    return this.request('GET', pathAndQuery);
  }

  async post(requestPath: string, body: unknown): Promise<ApiAnswer> {
    return this.request('POST', requestPath, body);
  }

  logTail(lines: number): string {
    if (!fs.existsSync(this.logFile)) return '(no log yet)';
    return fs.readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  }

  private request(method: string, requestPath: string, body?: unknown): Promise<ApiAnswer> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const request = http.request(
        `${this.baseUrl}${requestPath}`,
        {
          method,
          // A connection per request: a pooled socket of a killed process would fail the next call.
          agent: false,
          timeout: REQUEST_TIMEOUT_MS,
          headers: {
            authorization: `Bearer ${this.options.token}`,
            ...(payload !== undefined && { 'content-type': 'application/json' }),
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', reject);
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              // Not JSON: the text is the body.
            }
            resolve({ status: response.statusCode ?? 0, body: parsed });
          });
        },
      );
      request.on('timeout', () => request.destroy(new Error(`${method} ${requestPath} timed out`)));
      request.on('error', reject);
      request.end(payload);
    });
  }

  private async waitHealthy(): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (!this.child) {
        throw new Error(`the controller exited while starting:\n${this.logTail(30)}`);
      }
      const answer = await this.get('/healthz').catch(() => null);
      if (answer?.status === 200) return;
      await sleep(100);
    }
    throw new Error(
      `the controller did not answer /healthz within ${START_TIMEOUT_MS} ms:\n${this.logTail(30)}`,
    );
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
