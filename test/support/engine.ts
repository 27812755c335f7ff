/** The private Docker engine and Redis image that the global setup provided to this run. */
import { inject } from 'vitest';

export interface TestEngine {
  /** `unix://` URL of the engine socket; the only Docker endpoint tests may talk to. */
  dockerHost: string;
  redisImage: string;
}

export function testEngine(): TestEngine {
  return { dockerHost: inject('dockerHost'), redisImage: inject('redisImage') };
}
