/**
 * Vitest global setup: provides the private Docker engine and the local Redis image to every test
 * file, starting the engine when none runs and stopping it afterwards only if this run started it.
 */
import type { TestProject } from 'vitest/node';
import {
  describeError,
  type Engine,
  engineOptionsFromEnv,
  ensureEngine,
  stopEngine,
} from '../../src/cli/engine.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `unix://` URL of the private engine's socket. */
    dockerHost: string;
    /** The locally built Redis image, present in that engine. */
    redisImage: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const options = engineOptionsFromEnv(process.env);

  let engine: Engine;
  try {
    engine = await ensureEngine(options);
  } catch (error) {
    // Failing loudly: skipped integration tests would pass CI while testing nothing.
    throw new Error(
      'The integration tests need a Docker engine with the local Redis image, and none could ' +
        `be provided: ${describeError(error)}. Start one as root with ` +
        'eval "$(npm run -s engine)" (it installs docker.io, redis-server and redis-tools with ' +
        'apt-get when they are missing), or install the Debian packages docker.io, ' +
        'redis-server and redis-tools yourself and run the tests as root.',
      { cause: error },
    );
  }

  project.provide('dockerHost', engine.dockerHost);
  project.provide('redisImage', engine.redisImage);

  return async () => {
    // An engine that was already running belongs to someone else, who may still be using it.
    if (engine.startedByUs) await stopEngine(engine.dir, options.log);
  };
}
