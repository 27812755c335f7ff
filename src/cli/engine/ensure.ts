/**
 * The one call the CLI and the test setup make: an engine that answers, holding the Redis image,
 * started only when none already runs.
 */
import { type EngineOptions, enginePaths } from './config.js';
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
