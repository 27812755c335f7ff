import { describe, expect, it } from 'vitest';
import { ObservationCache } from '../../src/controller/cache.js';
import type { ObservedContainer } from '../../src/runtime/types.js';

const container = (redisId: string, id: string): ObservedContainer => ({
  id,
  name: `app-${redisId}`,
  state: 'running',
  exitCode: 0,
  oomKilled: false,
  restartCount: 0,
  redisId,
  specHash: 'h',
  generation: 1,
  startedAt: null,
  finishedAt: null,
});

describe('ObservationCache', () => {
  it('serves nothing before a listing, or for a record never verified', () => {
    const cache = new ObservationCache();
    cache.markVerified('r1', 'c1');
    expect(cache.view('r1')).toBeUndefined();
    cache.replace([container('r1', 'c1')]);
    expect(cache.view('r2')).toBeUndefined();
  });

  it('serves a verified record while the listing agrees with what was verified', () => {
    const cache = new ObservationCache();
    cache.replace([container('r1', 'c1')]);
    cache.markVerified('r1', 'c1');
    expect(cache.view('r1')).toEqual(container('r1', 'c1'));
  });

  it('stops serving a record after a runtime event about it', () => {
    const cache = new ObservationCache();
    cache.replace([container('r1', 'c1')]);
    cache.markVerified('r1', 'c1');
    cache.invalidate('r1');
    expect(cache.view('r1')).toBeUndefined();
  });

  it('stops serving a record whose container changed in a later listing', () => {
    const cache = new ObservationCache();
    cache.replace([container('r1', 'c1')]);
    cache.markVerified('r1', 'c1');
    cache.replace([container('r1', 'c2')]);
    expect(cache.view('r1')).toBeUndefined();
    cache.replace([]);
    expect(cache.view('r1')).toBeUndefined();
  });

  it('serves a record verified to have no container while none is listed', () => {
    const cache = new ObservationCache();
    cache.replace([]);
    cache.markVerified('r1', null);
    expect(cache.view('r1')).toBeNull();
    cache.replace([container('r1', 'c1')]);
    expect(cache.view('r1')).toBeUndefined();
  });
});
