/**
 * Waiting for a started Redis to answer an authenticated PING, and telling a slow start from a
 * crash.
 */
import type { RedisRecord } from '../domain/redis.js';
import { ContainerGoneError, type Runtime, RuntimeError } from '../runtime/types.js';

/** Interval between readiness probes while waiting for a started Redis. */
const READY_POLL_MS = 200;

/** Log lines quoted in the status when a container exits during start. */
const EXIT_LOG_LINES = 10;

/** Restarts by the engine, while waiting for readiness, after which Redis counts as crashing. */
const CRASH_LOOP_RESTARTS = 2;

/** Thrown inside a reconcile whose work the user's newer wishes, or a shutdown, made moot. */
export class Superseded extends Error {}

export interface ReadinessOptions {
  readyTimeoutMs: number;
  sleep: (ms: number) => Promise<void>;
  /** True when the wait should end at once (shutdown, or the record asks for something else). */
  giveUp: () => boolean;
}

/**
 * Waits for an authenticated PING; fails early, with the exit code and logs, if Redis exits.
 * Gives up at once, without error, when the user asked for something else meanwhile (a stop,
 * a removal, a new spec) or the controller is shutting down: the next reconcile takes over.
 */
export async function waitReady(
  runtime: Runtime,
  record: RedisRecord,
  containerId: string,
  options: ReadinessOptions,
): Promise<void> {
  const deadline = Date.now() + options.readyTimeoutMs;
  let lastOutput = '';
  let firstRestartCount: number | undefined;
  for (;;) {
    if (options.giveUp()) throw new Superseded();
    const container = await runtime.findContainer(record.appName);
    if (!container || container.id !== containerId) {
      throw new ContainerGoneError('the container disappeared while starting', null);
    }
    // The engine's restart policy may be bringing it back (with its config, just written);
    // a few more restarts while waiting mean it keeps crashing.
    firstRestartCount ??= container.restartCount;
    const crashLooping =
      container.state === 'restarting' &&
      container.restartCount - firstRestartCount >= CRASH_LOOP_RESTARTS;
    if (container.state === 'exited' || container.state === 'dead' || crashLooping) {
      const logs = await runtime.logs(containerId, EXIT_LOG_LINES);
      const oom = container.oomKilled ? ' (killed for running out of memory)' : '';
      const restarts =
        container.restartCount > 0 ? `, restarted ${container.restartCount} times` : '';
      throw new RuntimeError(
        `Redis exited with code ${container.exitCode}${oom}${restarts}; last log lines:\n` +
          logs.trim(),
      );
    }
    if (container.state === 'running') {
      const ping = await runtime.ping(containerId, record.databasePassword);
      if (ping.ok) return;
      lastOutput = ping.output;
    }
    if (Date.now() >= deadline) {
      const seconds = Math.round(options.readyTimeoutMs / 1000);
      throw new RuntimeError(
        `Redis did not answer an authenticated PING within ${seconds} s` +
          (lastOutput ? ` (last answer: ${lastOutput})` : ''),
      );
    }
    await options.sleep(READY_POLL_MS);
  }
}
