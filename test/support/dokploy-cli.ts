/**
 * Runs the official Dokploy command-line client (npm `@dokploy/cli`), unmodified, as a child
 * process pointed at a test controller, as a user would run it from a shell.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

/** The CLI's entry point, as installed by npm. */
export const DOKPLOY_CLI_ENTRY = path.join(
  path.dirname(createRequire(import.meta.url).resolve('@dokploy/cli/package.json')),
  'dist',
  'index.js',
);

/**
 * Where `dokploy auth` saves a URL and token, next to the CLI's dist. The CLI prefers the
 * environment's DOKPLOY_URL, but a file here could still point it somewhere else.
 */
const SAVED_AUTH_CONFIG = path.join(path.dirname(DOKPLOY_CLI_ENTRY), '..', 'config.json');

/** One CLI run may take a while on a busy machine, but never this long. */
const CLI_TIMEOUT_MS = 60_000;

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Options by name, passed as `--name value` (or a bare `--name` for true) in the order given. */
export type CliFlags = Record<string, string | number | true>;

export interface DokployCli {
  /**
   * Runs `dokploy <command> --flag value …`, for example `run('redis one', { redisId })`; a
   * non-zero exit is part of the result, not an exception.
   */
  run(command: string, flags?: CliFlags): Promise<CliResult>;
  /** Runs the same with `--json`, requires exit code 0 and returns the parsed output. */
  json<T>(command: string, flags?: CliFlags): Promise<T>;
  /** Removes the working directory. */
  close(): void;
}

function argv(command: string, flags: CliFlags): string[] {
  const options = Object.entries(flags).flatMap(([name, value]) =>
    value === true ? [`--${name}`] : [`--${name}`, String(value)],
  );
  return [...command.split(' '), ...options];
}

/**
 * A CLI bound to one controller. Each run gets only PATH and the two variables that name the
 * controller, in a fresh empty working directory, so that no `.env` or saved login of this
 * machine can send it anywhere else.
 */
export function dokployCli(baseUrl: string, token: string): DokployCli {
  if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(baseUrl)) {
    throw new Error(`the CLI may only be pointed at a local test controller, not ${baseUrl}`);
  }
  if (fs.existsSync(SAVED_AUTH_CONFIG)) {
    throw new Error(`${SAVED_AUTH_CONFIG} exists and could point the CLI elsewhere; remove it`);
  }
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'rc-dokploy-cli-'));
  const env = { PATH: process.env.PATH ?? '', DOKPLOY_URL: baseUrl, DOKPLOY_API_KEY: token };

  const run = (command: string, flags: CliFlags = {}): Promise<CliResult> =>
    new Promise((resolve, reject) => {
      const args = argv(command, flags);
      execFile(
        process.execPath,
        [DOKPLOY_CLI_ENTRY, ...args],
        { env, cwd, timeout: CLI_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 },
        (error, stdout, stderr) => {
          if (error && typeof error.code !== 'number') {
            reject(new Error(`dokploy ${args.join(' ')} did not run: ${error.message}`));
            return;
          }
          resolve({ exitCode: error ? Number(error.code) : 0, stdout, stderr });
        },
      );
    });

  return {
    run,
    async json<T>(command: string, flags: CliFlags = {}): Promise<T> {
      const result = await run(command, { ...flags, json: true });
      if (result.exitCode !== 0) {
        throw new Error(
          `dokploy ${command} exited with ${result.exitCode}: ${result.stderr.trim()}`,
        );
      }
      return JSON.parse(result.stdout) as T;
    },
    close() {
      fs.rmSync(cwd, { recursive: true, force: true });
    },
  };
}

/**
 * Calls `probe` until `done` holds for its answer, and returns that answer; fails naming `what`
 * and the last answer once `timeoutMs` has passed.
 */
export async function pollUntil<T>(
  what: string,
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 60_000,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await probe();
    if (done(last)) return last;
    if (Date.now() >= deadline) {
      throw new Error(
        `${what} did not happen within ${timeoutMs} ms; last: ${JSON.stringify(last)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
