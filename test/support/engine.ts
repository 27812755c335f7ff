/** The private Docker engines and Redis image that the global setup provided to this run. */
import { inject } from 'vitest';

export interface TestEngine {
  /** `unix://` URL of the engine socket; one of the only two Docker endpoints tests may use. */
  dockerHost: string;
  redisImage: string;
}

export function testEngine(): TestEngine {
  return { dockerHost: inject('dockerHost'), redisImage: inject('redisImage') };
}

/**
 * The second engine, a separate dockerd on a bridge of its own, for tests of several Docker
 * servers. It holds the same Redis image under the same name.
 */
export function secondEngine(): TestEngine {
  return { dockerHost: inject('secondDockerHost'), redisImage: inject('redisImage') };
}
