/**
 * `npm run engine`: starts, or reuses, the private Docker engine that tests and local runs talk
 * to, and builds the local Redis image inside it. No registry need be reached, so
 * the engine is told to use a dead proxy and the image is assembled from the host's Debian
 * binaries instead of being pulled.
 *
 * Stdout carries only `export` lines, so `eval "$(npm run -s engine)"` works; all progress goes
 * to stderr. `npm run engine -- stop` stops the engine, `npm run engine -- status` reports on it.
 *
 * ENGINE_DIR picks the engine. A second engine beside the first needs a bridge of its own, as
 * only one daemon can have docker0: `ENGINE_DIR=/var/tmp/redis-controller-engine-2
 * ENGINE_BRIDGE=rcbr2 ENGINE_BIP=10.213.0.1/24 npm run engine` creates the bridge when absent,
 * and `stop` with the same ENGINE_DIR stops that daemon alone and removes the bridge it created.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { engineOptionsFromEnv, enginePaths } from './engine/config.js';
import { pingEngine, readDaemonPid, stopEngine } from './engine/daemon.js';
import { ensureEngine } from './engine/ensure.js';
import { describeError } from './engine/errors.js';

// The test setup and the engine's tests import these from here, the tool's one public entry.
export {
  DEFAULT_BRIDGE,
  DEFAULT_ENGINE_DIR,
  DEFAULT_REDIS_IMAGE,
  type EngineBridge,
  type EngineOptions,
  type EnginePaths,
  engineOptionsFromEnv,
  enginePaths,
} from './engine/config.js';
export { pingEngine, stopEngine } from './engine/daemon.js';
export {
  type DockerdSettings,
  dockerdSettings,
  runningDockerds,
  sharedWith,
} from './engine/dockerds.js';
export { type Engine, ensureEngine } from './engine/ensure.js';
export { describeError } from './engine/errors.js';

/** A `export NAME=value` line, quoted only when the value needs it in a POSIX shell. */
function exportLine(name: string, value: string): string {
  const quoted = /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
  return `export ${name}=${quoted}\n`;
}

async function main(args: string[]): Promise<number> {
  const options = engineOptionsFromEnv(process.env);
  const command = args[0] ?? 'start';

  if (command === 'start') {
    const engine = await ensureEngine(options);
    process.stdout.write(
      exportLine('DOCKER_HOST', engine.dockerHost) + exportLine('REDIS_IMAGE', engine.redisImage),
    );
    return 0;
  }
  if (command === 'stop') {
    await stopEngine(options.dir, options.log);
    return 0;
  }
  if (command === 'status') {
    const paths = enginePaths(options.dir);
    const pid = await readDaemonPid(paths.pidFile);
    if (await pingEngine(paths.socket)) {
      process.stdout.write(`running: dockerd pid ${pid ?? 'unknown'} on unix://${paths.socket}\n`);
      return 0;
    }
    const detail = pid === null ? '' : ` (dockerd pid ${pid} is alive but does not answer)`;
    process.stdout.write(`not running: nothing answers on ${paths.socket}${detail}\n`);
    // 3 is the LSB status code for "not running", so scripts can tell it from a failure.
    return 3;
  }
  process.stderr.write('usage: npm run engine [-- start|stop|status]\n');
  return 2;
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
}

if (isEntryPoint()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`engine: ${describeError(error)}\n`);
      process.exitCode = 1;
    },
  );
}
