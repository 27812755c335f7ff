/**
 * Waiting for the first authenticated PONG on a published port, with a resolution of a few
 * milliseconds.
 *
 * A new probe (connect, AUTH, PING) starts every PROBE_INTERVAL_MS without waiting for the ones
 * before it. This matters while the engine is starting the container: a probe that connects
 * then reaches the engine's port proxy, whose own connection to the container can sit in TCP's
 * one-second SYN retry. Waiting for such a probe before making the next would measure that
 * retry, or the probe's timeout, instead of the moment Redis became reachable.
 */
import { RespClient } from '../support/resp.js';

const PROBE_INTERVAL_MS = 20;

/** Longer than the SYN retry; a probe older than this is dropped. */
const PROBE_TIMEOUT_MS = 2_000;

/** Resolves once an authenticated PING on 127.0.0.1:`port` answers PONG; `signal` gives up. */
export async function waitForPong(
  port: number,
  password: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  // The probes still in flight, closed once the wait is over, whichever way it ended.
  const open = new Set<RespClient>();
  let last = 'no answer';
  let ponged = false;
  let wake = (): void => {};

  try {
    while (!ponged) {
      if (signal?.aborted) throw new Error(`gave up waiting for PONG on port ${port}`);
      if (Date.now() > deadline) {
        throw new Error(`no authenticated PONG on port ${port} within ${timeoutMs} ms (${last})`);
      }
      probe(port, password, open).then(
        (reply) => {
          if (reply === 'PONG') {
            ponged = true;
            wake();
          } else last = reply;
        },
        // Refused, or reset by the port proxy while nothing listens behind it yet.
        (error: unknown) => {
          last = (error as Error).message;
        },
      );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, PROBE_INTERVAL_MS);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  } finally {
    for (const client of open) client.close();
    open.clear();
  }
}

/** One AUTH and PING on a fresh connection, kept in `open` while it lasts; PING's answer. */
async function probe(port: number, password: string, open: Set<RespClient>): Promise<string> {
  const client = await RespClient.connect(port);
  open.add(client);
  const timer = setTimeout(() => client.close(), PROBE_TIMEOUT_MS);
  try {
    const auth = await client.command('AUTH', 'default', password);
    if (auth instanceof Error) return auth.message;
    const reply = await client.command('PING');
    return reply instanceof Error ? reply.message : String(reply);
  } finally {
    clearTimeout(timer);
    open.delete(client);
    client.close();
  }
}
