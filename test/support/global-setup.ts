/**
 * Vitest global setup: provides two private Docker engines and the local Redis image in each to
 * every test file, starting an engine when none runs and stopping it afterwards only if this run
 * started it. The second engine has a bridge of its own, so both daemons can run side by side.
 */
import type { TestProject } from 'vitest/node';
import {
  describeError,
  type Engine,
  type EngineOptions,
  engineOptionsFromEnv,
  ensureEngine,
  stopEngine,
} from '../../src/cli/engine.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `unix://` URL of the private engine's socket. */
    dockerHost: string;
    /** The locally built Redis image, present in both engines. */
    redisImage: string;
    /** `unix://` URL of the second private engine's socket. */
    secondDockerHost: string;
  }
}

/** Where the second engine lives unless SECOND_ENGINE_DIR, _BRIDGE or _BIP say otherwise. */
const SECOND_ENGINE_DEFAULTS = {
  dir: '/var/tmp/redis-controller-engine-2',
  bridge: 'rcbr2',
  bip: '10.213.0.1/24',
};

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

  let second: Engine;
  try {
    second = await ensureEngine(secondEngineOptions());
  } catch (error) {
    // The first engine would otherwise outlive a run that never got to its teardown.
    if (engine.startedByUs) await stopEngine(engine.dir, options.log);
    throw new Error(
      'The tests of several Docker servers need a second engine on a bridge of its own, and ' +
        `none could be provided: ${describeError(error)}. Start it as root with ` +
        `${secondEngineCommand()} (the address must be a subnet no interface of this host ` +
        'uses), or set SECOND_ENGINE_DIR, SECOND_ENGINE_BRIDGE and SECOND_ENGINE_BIP to ' +
        'another free directory, bridge name and subnet.',
      { cause: error },
    );
  }

  project.provide('dockerHost', engine.dockerHost);
  project.provide('redisImage', engine.redisImage);
  project.provide('secondDockerHost', second.dockerHost);

  return async () => {
    // An engine that was already running belongs to someone else, who may still be using it.
    await Promise.all(
      [engine, second]
        .filter((started) => started.startedByUs)
        .map((started) => stopEngine(started.dir, options.log)),
    );
  };
}

/** ENGINE_DIR, ENGINE_BRIDGE and ENGINE_BIP as the engine tool takes them for the second engine. */
function secondEngineEnv(): Record<string, string> {
  const env = process.env;
  return {
    ENGINE_DIR: env.SECOND_ENGINE_DIR || SECOND_ENGINE_DEFAULTS.dir,
    ENGINE_BRIDGE: env.SECOND_ENGINE_BRIDGE || SECOND_ENGINE_DEFAULTS.bridge,
    ENGINE_BIP: env.SECOND_ENGINE_BIP || SECOND_ENGINE_DEFAULTS.bip,
  };
}

/** The first engine's options, REDIS_IMAGE included, with the second engine's place. */
function secondEngineOptions(): EngineOptions {
  return engineOptionsFromEnv({ ...process.env, ...secondEngineEnv() });
}

/** The command that starts the second engine by hand, with the values this run would use. */
function secondEngineCommand(): string {
  const assignments = Object.entries(secondEngineEnv()).map(([name, value]) => `${name}=${value}`);
  return `${assignments.join(' ')} npm run engine`;
}
