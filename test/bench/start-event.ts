/**
 * The engine's "start" event for one container name, so that PONG probes begin only once the
 * container runs.
 *
 * Probing earlier disturbs what is measured: a connection that reaches the engine's port proxy
 * before the container's network is up sends the host's ARP for the container's address into
 * its one-second retry, and every probe behind it waits that second out, in the controller's
 * runs and the raw ones alike. Starting the probes at the start event measures the same moment
 * in both without that second.
 */
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';

export interface StartWatch {
  /** Resolves at the first start event of the container after the watch began. */
  started: Promise<void>;
  /** Ends the watch; `started` rejects if it had not resolved yet. */
  close(): void;
}

/**
 * Subscribes before returning, so a start that follows the call is never missed. `started`
 * rejects when no start came within `timeoutMs`.
 */
export async function watchStart(
  docker: Docker,
  containerName: string,
  timeoutMs: number,
): Promise<StartWatch> {
  const stream = (await docker.getEvents({
    filters: { type: ['container'], event: ['start'], container: [containerName] },
  })) as unknown as Readable;

  let settle: { resolve: () => void; reject: (error: Error) => void } | null = null;
  const started = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject };
  });
  // A watch closed before the start is not an error of its own; whoever awaits it sees one.
  started.catch(() => undefined);

  const timer = setTimeout(
    () => finish(new Error(`${containerName} did not start within ${timeoutMs} ms`)),
    timeoutMs,
  );
  const finish = (error?: Error): void => {
    if (!settle) return;
    clearTimeout(timer);
    if (error) settle.reject(error);
    else settle.resolve();
    settle = null;
    stream.destroy();
  };
  // The filter lets only this container's start events through: any data is the one awaited.
  stream.once('data', () => finish());
  stream.once('error', (error: Error) => finish(error));
  stream.once('close', () =>
    finish(new Error(`the events stream closed before ${containerName} started`)),
  );

  return { started, close: () => finish(new Error(`stopped watching ${containerName}`)) };
}
