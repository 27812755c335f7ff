/**
 * The engine's events stream, reduced to "this record's container changed". The stream breaks
 * when the engine restarts; it is reopened with a capped backoff, and every reopening asks for a
 * full resync, since events missed meanwhile are gone for good.
 */
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import type { RuntimeWatcher } from '../types.js';
import { LABELS } from '../types.js';

/** Container events after which the record is reconciled again. */
const WATCHED_ACTIONS = [
  'create',
  'start',
  'restart',
  'die',
  'stop',
  'kill',
  'oom',
  'destroy',
  'pause',
  'unpause',
  'update',
  'rename',
  'health_status',
];

const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 5_000;

interface EngineEvent {
  Type?: string;
  Action?: string;
  Actor?: { Attributes?: Record<string, string> };
}

/**
 * Follows the engine named `engine` (its address, for messages). A lost stream is reported once
 * per outage, not at every retry, so an engine that stays away does not flood the log.
 */
export function watchContainerEvents(
  docker: Docker,
  ownerId: string,
  watcher: RuntimeWatcher,
  engine: string,
): () => void {
  let stopped = false;
  let stream: Readable | null = null;
  let retryMs = FIRST_RETRY_MS;
  let timer: NodeJS.Timeout | null = null;
  let lost = false;

  const disconnected = (error: unknown): void => {
    if (lost || stopped) return;
    lost = true;
    const reason = error instanceof Error ? error.message : String(error);
    watcher.onDisconnect(new Error(`${engine}: ${reason}`));
  };

  const reconnect = (): void => {
    if (stopped) return;
    timer = setTimeout(() => void connect(), retryMs);
    timer.unref();
    retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
  };

  const connect = async (): Promise<void> => {
    try {
      stream = (await docker.getEvents({
        filters: {
          type: ['container'],
          label: [`${LABELS.owner}=${ownerId}`],
          event: WATCHED_ACTIONS,
        },
      })) as unknown as Readable;
    } catch (error) {
      disconnected(error);
      reconnect();
      return;
    }
    if (stopped) {
      stream.destroy();
      return;
    }
    retryMs = FIRST_RETRY_MS;
    lost = false;
    watcher.onResync();

    let pending = '';
    stream.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) handleLine(line);
    });
    stream.once('error', (error) => disconnected(error));
    stream.once('close', () => {
      stream = null;
      if (!stopped) {
        disconnected(new Error('the engine closed the events stream'));
        reconnect();
      }
    });
  };

  const handleLine = (line: string): void => {
    if (!line.trim()) return;
    let event: EngineEvent;
    try {
      event = JSON.parse(line) as EngineEvent;
    } catch {
      // A torn line cannot be read; the periodic resync covers whatever it announced.
      return;
    }
    const redisId = event.Actor?.Attributes?.[LABELS.redisId];
    if (event.Type === 'container' && redisId) watcher.onChange(redisId, event.Action ?? '');
  };

  void connect();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    stream?.destroy();
  };
}
