/**
 * A procedure is one API verb: its input schema and its handler. The same table serves the
 * REST paths (`/api/redis.create`) and, through an adapter, other wire formats.
 */
import type { z } from 'zod';
import type { Logger } from '../logger.js';
import type { PortProbe } from '../runtime/host-ports.js';
import type { Store } from '../store/store.js';

/** Read-only access to what runs, for verbs that report on it rather than change it. */
export interface RuntimeObserver {
  /** The container's log lines, or null when the database has no container. */
  logs(
    record: { appName: string; serverId: string | null },
    options: { tail: number; sinceSeconds?: number },
  ): Promise<string | null>;
}

export interface ProcedureContext {
  store: Store;
  logger: Logger;
  observer: RuntimeObserver | null;
  /** Tells whether a port is free on the engine's host; null where that cannot be known. */
  portProbe: PortProbe | null;
  /** Told when a server is updated or removed, so its client is dropped. */
  onServerChanged: (serverId: string) => void;
}

export interface Procedure<Input extends z.ZodType = z.ZodType> {
  /** Queries are GETs with the input in the query string; mutations are POSTs with JSON. */
  kind: 'query' | 'mutation';
  input: Input;
  handler: (input: z.output<Input>, context: ProcedureContext) => unknown | Promise<unknown>;
}

/** Keeps the input type flowing from the schema into the handler. */
export function procedure<Input extends z.ZodType>(
  kind: Procedure['kind'],
  input: Input,
  handler: Procedure<Input>['handler'],
): Procedure<Input> {
  return { kind, input, handler };
}

export type ProcedureTable = Record<string, Procedure>;
