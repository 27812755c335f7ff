/**
 * What the development engine is configured by, and where the private daemon keeps its files:
 * all of them under the one directory that ENGINE_DIR names.
 */
import path from 'node:path';

export const DEFAULT_ENGINE_DIR = '/var/tmp/redis-controller-engine';
export const DEFAULT_REDIS_IMAGE = 'redis-controller/redis:local';

export interface EngineOptions {
  /** Holds the socket, data root, exec root, pid file and log of the private daemon. */
  dir: string;
  redisImage: string;
  /** Progress lines for a person; never written to stdout. */
  log: (message: string) => void;
  startTimeoutMs?: number;
}

export interface EnginePaths {
  dir: string;
  socket: string;
  dataRoot: string;
  execRoot: string;
  pidFile: string;
  logFile: string;
}

export function enginePaths(dir: string): EnginePaths {
  const root = path.resolve(dir);
  return {
    dir: root,
    socket: path.join(root, 'docker.sock'),
    dataRoot: path.join(root, 'root'),
    execRoot: path.join(root, 'exec'),
    pidFile: path.join(root, 'dockerd.pid'),
    logFile: path.join(root, 'dockerd.log'),
  };
}

/** The CLI's and the test setup's configuration: ENGINE_DIR and REDIS_IMAGE, with defaults. */
export function engineOptionsFromEnv(env: NodeJS.ProcessEnv): EngineOptions {
  return {
    dir: env.ENGINE_DIR || DEFAULT_ENGINE_DIR,
    redisImage: env.REDIS_IMAGE || DEFAULT_REDIS_IMAGE,
    log: (message) => process.stderr.write(`engine: ${message}\n`),
  };
}
