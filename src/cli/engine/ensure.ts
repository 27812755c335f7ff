/**
 * The one call the CLI and the test setup make: an engine that answers, holding the Redis image,
 * started only when none already runs.
 */
import { engineRequest } from './api.js';
import { DEFAULT_BRIDGE, type EngineOptions, enginePaths } from './config.js';
import { pingEngine, startDaemon, stopEngine } from './daemon.js';
import { ensureImage } from './image.js';

export interface Engine {
  dir: string;
  /** `unix://` URL of the engine socket, as DOCKER_HOST expects it. */
  dockerHost: string;
  redisImage: string;
  /** True when this call started dockerd, so the caller knows whether it should stop it. */
  startedByUs: boolean;
}

/** Starts the engine unless one already answers on the socket, then makes sure of the image. */
export async function ensureEngine(options: EngineOptions): Promise<Engine> {
  const paths = enginePaths(options.dir);
  const engine: Engine = {
    dir: paths.dir,
    dockerHost: `unix://${paths.socket}`,
    redisImage: options.redisImage,
    startedByUs: false,
  };

  if (await pingEngine(paths.socket)) {
    options.log(`reusing the engine at ${paths.socket}`);
    await requireBridge(paths.socket, options);
  } else {
    engine.startedByUs = await startDaemon(paths, options);
  }

  try {
    await ensureImage(paths.socket, options.redisImage, options.log);
  } catch (error) {
    // An engine we just started for nothing would be left behind by a failing test setup.
    if (engine.startedByUs) await stopEngine(paths.dir, options.log);
    throw error;
  }
  return engine;
}

/** The fields of GET /networks/bridge that are read here. */
interface BridgeNetwork {
  Options?: Record<string, string>;
  IPAM?: { Config?: Array<{ Subnet?: string; Gateway?: string }> | null };
}

/**
 * Checks that a running engine is on the bridge, and address, that the options ask for: an
 * engine reused from ENGINE_DIR must not quietly be one started with other settings.
 */
async function requireBridge(socketPath: string, options: EngineOptions): Promise<void> {
  const res = await engineRequest(socketPath, 'GET', '/networks/bridge');
  if (res.statusCode !== 200) {
    throw new Error(`the engine answered ${res.statusCode} about its bridge network: ${res.body}`);
  }
  const network = JSON.parse(res.body) as BridgeNetwork;
  const actual = network.Options?.['com.docker.network.bridge.name'] ?? DEFAULT_BRIDGE;
  const config = network.IPAM?.Config?.[0];
  const prefix = config?.Subnet?.split('/')[1];
  const actualCidr = config?.Gateway && prefix ? `${config.Gateway}/${prefix}` : 'no address';

  const wanted = options.bridge;
  const matches =
    wanted === undefined
      ? actual === DEFAULT_BRIDGE
      : actual === wanted.name && actualCidr === wanted.cidr;
  if (matches) return;

  const asked =
    wanted === undefined ? `${DEFAULT_BRIDGE}, the default` : `${wanted.name} with ${wanted.cidr}`;
  throw new Error(
    `the engine at ${socketPath} runs on the bridge ${actual} with ${actualCidr}, not on ` +
      `${asked}; set ENGINE_BRIDGE and ENGINE_BIP to match it, or point ENGINE_DIR elsewhere`,
  );
}
