/**
 * What the verb tests share: a controller of their own, the databases they create (removed
 * through the API at the end), a wait for "the reconciler has carried this change out", and the
 * ways a client sees a container (docker inspect, the published port).
 */
import type Docker from 'dockerode';
import { expect } from 'vitest';
import { dockerFromHost } from '../../src/runtime/docker/client.js';
import type { ApiResponse } from './api.js';
import {
  createRedis,
  isDone,
  type RedisRow,
  startTestController,
  type TestController,
  uniqueAppName,
  waitForRedis,
} from './controller.js';
import { testEngine } from './engine.js';
import { freePort, RespClient } from './resp.js';

export const PASSWORD = 'verbs-Passw0rd!';

/** The record as redis.one returns it, with the bookkeeping that tells what has been applied. */
export interface TrackedRow extends RedisRow {
  name: string;
  description: string | null;
  generation: number;
  deployRequests: number;
  restartRequests: number;
  rebuildRequests: number;
  externalPort: number | null;
  environmentId: string;
  status: RedisRow['status'] & {
    observedGeneration: number;
    appliedDeployRequests: number;
    appliedRestartRequests: number;
    appliedRebuildRequests: number;
    containerId: string | null;
    endpoint: { host: string; port: number } | null;
  };
}

export interface Deployed {
  row: TrackedRow;
  /** The published host port, on 127.0.0.1. */
  port: number;
}

/** True once every spec change and request of the row is carried out and Redis answers. */
export function caughtUp(row: RedisRow): boolean {
  const { status, ...record } = row as TrackedRow;
  return (
    status.observedGeneration === record.generation &&
    status.appliedDeployRequests === record.deployRequests &&
    status.appliedRestartRequests === record.restartRequests &&
    status.appliedRebuildRequests === record.rebuildRequests &&
    isDone(row)
  );
}

/** The error code of a TCP connection to 127.0.0.1:port, or null when it was accepted. */
export async function connectError(port: number): Promise<string | null> {
  try {
    const client = await RespClient.connect(port);
    client.close();
    return null;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? String(error);
  }
}

/** Reads the second element of a `CONFIG GET name` reply. */
export function configValue(reply: unknown): unknown {
  return Array.isArray(reply) ? reply[1] : reply;
}

export class VerbHarness {
  private readonly created = new Set<string>();

  private constructor(
    readonly controller: TestController,
    readonly docker: Docker,
  ) {}

  static async start(): Promise<VerbHarness> {
    const controller = await startTestController();
    return new VerbHarness(controller, dockerFromHost(testEngine().dockerHost));
  }

  post(path: string, body: unknown): Promise<ApiResponse> {
    return this.controller.client.post(path, body);
  }

  get(pathAndQuery: string): Promise<ApiResponse> {
    return this.controller.client.get(pathAndQuery);
  }

  async one(redisId: string): Promise<TrackedRow> {
    const response = await this.get(`/api/redis.one?redisId=${encodeURIComponent(redisId)}`);
    expect(response.status).toBe(200);
    return response.body as TrackedRow;
  }

  /** Creates a record (not deployed) that is removed again when the harness stops. */
  async create(prefix: string, overrides: Record<string, unknown> = {}): Promise<TrackedRow> {
    const row = (await createRedis(this.controller, {
      name: `verbs ${prefix}`,
      appName: uniqueAppName(prefix),
      databasePassword: PASSWORD,
      ...overrides,
    })) as TrackedRow;
    this.created.add(row.redisId);
    return row;
  }

  /** Creates a record published on a free port, deploys it and waits until Redis answers. */
  async deploy(prefix: string, overrides: Record<string, unknown> = {}): Promise<Deployed> {
    const port = await freePort();
    const created = await this.create(prefix, { externalPort: port, ...overrides });
    const deployed = await this.post('/api/redis.deploy', { redisId: created.redisId });
    expect(deployed.status).toBe(200);
    return { row: await this.settle(created.redisId), port };
  }

  /** Waits until the reconciler has carried out everything the record asks for. */
  async settle(redisId: string): Promise<TrackedRow> {
    return (await waitForRedis(this.controller.client, redisId, caughtUp)) as TrackedRow;
  }

  inspect(appName: string): Promise<Docker.ContainerInspectInfo> {
    return this.docker.getContainer(appName).inspect();
  }

  /** Removes every database created here through the API, then stops the controller. */
  async stop(): Promise<void> {
    try {
      for (const redisId of this.created) {
        const removed = await this.post('/api/redis.remove', { redisId });
        // 404: a test removed it already.
        expect([200, 404]).toContain(removed.status);
      }
      const store = this.controller.running.store;
      const deadline = Date.now() + 60_000;
      const left = (): string[] =>
        [...this.created].filter((id) => store.redis.findIncludingDeleted(id) !== null);
      while (left().length > 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(left()).toEqual([]);
    } finally {
      await this.controller.stop();
    }
  }
}
