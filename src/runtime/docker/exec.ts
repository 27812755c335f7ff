/**
 * Running redis-cli inside a container. Secrets go in the exec's environment (REDISCLI_AUTH)
 * or on its standard input, never in its argument list.
 */
import type Docker from 'dockerode';
import { collect, demux } from './streams.js';

/** How long one redis-cli run inside the container may take. */
export const REDIS_CLI_TIMEOUT_MS = 5_000;

export interface RedisCliRun {
  /** stdout and stderr merged and trimmed, or 'timed out'. */
  output: string;
  /** null when the run timed out. */
  exitCode: number | null;
}

export async function runRedisCli(
  container: Docker.Container,
  args: string[],
  options: { auth: string; stdin?: string },
): Promise<RedisCliRun> {
  const exec = await container.exec({
    Cmd: ['redis-cli', '--no-auth-warning', ...args],
    Env: [`REDISCLI_AUTH=${options.auth}`],
    AttachStdin: options.stdin !== undefined,
    AttachStdout: true,
    AttachStderr: true,
  });
  const stream = await exec.start({ hijack: true, stdin: options.stdin !== undefined });
  const collected = collect(stream, REDIS_CLI_TIMEOUT_MS);
  if (options.stdin !== undefined) stream.end(Buffer.from(options.stdin, 'utf8'));
  const raw = await collected;
  if (raw === null) return { output: 'timed out', exitCode: null };
  const { ExitCode } = await exec.inspect();
  return { output: demux(raw).trim(), exitCode: ExitCode };
}
