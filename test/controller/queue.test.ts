import { describe, expect, it } from 'vitest';
import { WorkQueue } from '../../src/controller/queue.js';

const newQueue = (): WorkQueue =>
  new WorkQueue({ baseDelayMs: 100, maxDelayMs: 1000, random: () => 0 });

describe('WorkQueue', () => {
  it('keeps a key queued once however often it is added', async () => {
    const queue = newQueue();
    queue.add('a');
    queue.add('a');
    queue.add('b');
    expect(queue.length).toBe(2);
    expect(await queue.get()).toBe('a');
    expect(await queue.get()).toBe('b');
  });

  it('never hands a key being processed to a second worker, and re-queues it when done', async () => {
    const queue = newQueue();
    queue.add('a');
    const first = await queue.get();
    queue.add('a');
    expect(queue.length).toBe(0);

    let second: string | null = null;
    const waiting = queue.get().then((key) => {
      second = key;
    });
    await Promise.resolve();
    expect(second).toBeNull();

    queue.done(first ?? '');
    await waiting;
    expect(second).toBe('a');
  });

  it('does not re-queue a finished key that was not added again', async () => {
    const queue = newQueue();
    queue.add('a');
    queue.done((await queue.get()) ?? '');
    expect(queue.length).toBe(0);
  });

  it('backs off exponentially up to the cap and resets on forget', () => {
    const queue = newQueue();
    const delays = [1, 2, 3, 4, 5].map(() => queue.addRateLimited('a'));
    expect(delays).toEqual([100, 200, 400, 800, 1000]);
    queue.forget('a');
    expect(queue.addRateLimited('a')).toBe(100);
    queue.shutDown();
  });

  it('adds jitter of at most a fifth, never past the cap', () => {
    const queue = new WorkQueue({ baseDelayMs: 100, maxDelayMs: 150, random: () => 0.99 });
    expect(queue.addRateLimited('a')).toBe(120);
    expect(queue.addRateLimited('a')).toBe(150);
    queue.shutDown();
  });

  it('delivers a delayed key after its delay', async () => {
    const queue = newQueue();
    queue.addAfter('a', 20);
    expect(queue.length).toBe(0);
    expect(await queue.get()).toBe('a');
  });

  it('releases waiting workers with null on shutdown', async () => {
    const queue = newQueue();
    const waiting = queue.get();
    queue.shutDown();
    expect(await waiting).toBeNull();
    queue.add('a');
    expect(await queue.get()).toBeNull();
  });
});
