/**
 * The events feed when the engine stays away: it keeps trying, but says so once per outage,
 * naming the engine, and resyncs once it is back. The engine is a stand-in object here, since a
 * real one cannot be made to fail on cue.
 */
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { watchContainerEvents } from '../../../src/runtime/docker/events.js';

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('the events feed of an engine that is away', () => {
  it('reports the outage once, naming the engine, and resyncs when the engine is back', async () => {
    let reachable = false;
    let calls = 0;
    const engine = {
      getEvents: async () => {
        calls++;
        if (!reachable) throw new Error('connect ENOENT /run/away.sock');
        return new PassThrough();
      },
    } as unknown as Docker;
    const lost: string[] = [];
    let resyncs = 0;
    const stop = watchContainerEvents(
      engine,
      'owner',
      {
        onChange: () => {},
        onResync: () => resyncs++,
        onDisconnect: (error) => lost.push((error as Error).message),
      },
      'unix:///run/away.sock',
    );

    await vi.advanceTimersByTimeAsync(30_000);
    expect(calls).toBeGreaterThan(5);
    expect(lost).toEqual(['unix:///run/away.sock: connect ENOENT /run/away.sock']);
    expect(resyncs).toBe(0);

    reachable = true;
    await vi.advanceTimersByTimeAsync(6_000);
    expect(resyncs).toBe(1);
    stop();
  });
});
