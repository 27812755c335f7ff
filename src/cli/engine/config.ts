/**
 * What the development engine is configured by, and where the private daemon keeps its files:
 * all of them under the one directory that ENGINE_DIR names.
 */
import path from 'node:path';
import { parseIpv4Cidr } from './ipv4.js';

export const DEFAULT_ENGINE_DIR = '/var/tmp/redis-controller-engine';
export const DEFAULT_REDIS_IMAGE = 'redis-controller/redis:local';
/** The bridge dockerd creates and owns when it is given none; only one daemon can have it. */
export const DEFAULT_BRIDGE = 'docker0';

/** A Linux bridge of the engine's own, so that it can run beside a daemon on docker0. */
export interface EngineBridge {
  /** Interface name, e.g. `rcbr2`. */
  name: string;
  /** The bridge's own address with its prefix, e.g. `10.213.0.1/24`; containers get the rest. */
  cidr: string;
}

export interface EngineOptions {
  /** Holds the socket, data root, exec root, pid file and log of the private daemon. */
  dir: string;
  redisImage: string;
  /** Absent: dockerd's own docker0, which only one daemon on the host can use. */
  bridge?: EngineBridge;
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
  /** The daemon's identity key and the config file naming it, for engines with their own bridge. */
  keyFile: string;
  configFile: string;
  /** Names the bridge this tool created for the engine, so that `stop` removes only that one. */
  bridgeRecord: string;
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
    keyFile: path.join(root, 'key.json'),
    configFile: path.join(root, 'daemon.json'),
    bridgeRecord: path.join(root, 'bridge-created'),
  };
}

/**
 * The CLI's and the test setup's configuration: ENGINE_DIR and REDIS_IMAGE, with defaults, and
 * ENGINE_BRIDGE with ENGINE_BIP for an engine on a bridge of its own. Throws on a bad value.
 */
export function engineOptionsFromEnv(env: NodeJS.ProcessEnv): EngineOptions {
  const options: EngineOptions = {
    dir: env.ENGINE_DIR || DEFAULT_ENGINE_DIR,
    redisImage: env.REDIS_IMAGE || DEFAULT_REDIS_IMAGE,
    log: (message) => process.stderr.write(`engine: ${message}\n`),
  };
  const bridge = bridgeFromEnv(env.ENGINE_BRIDGE || undefined, env.ENGINE_BIP || undefined);
  if (bridge !== undefined) options.bridge = bridge;
  return options;
}

function bridgeFromEnv(
  name: string | undefined,
  cidr: string | undefined,
): EngineBridge | undefined {
  if (name === undefined && cidr === undefined) return undefined;
  if (name === undefined) {
    throw new Error(
      `ENGINE_BIP=${cidr} needs ENGINE_BRIDGE: the address goes on that bridge, and the ` +
        `default engine on ${DEFAULT_BRIDGE} takes none`,
    );
  }
  if (cidr === undefined) {
    throw new Error(
      `ENGINE_BRIDGE=${name} needs ENGINE_BIP, the bridge's address, e.g. 10.213.0.1/24`,
    );
  }
  // The kernel's limit is 15 bytes; the character set keeps the name safe in any log or argument.
  if (!/^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,14}$/.test(name)) {
    throw new Error(`ENGINE_BRIDGE is not an interface name of at most 15 characters: ${name}`);
  }
  if (name === DEFAULT_BRIDGE) {
    throw new Error(
      `ENGINE_BRIDGE=${DEFAULT_BRIDGE} is dockerd's default; leave both unset for it`,
    );
  }
  parseIpv4Cidr(cidr, 'ENGINE_BIP');
  return { name, cidr };
}
