/**
 * The controller's resync around a shutdown, over a real SQLite store. The runtime is a stand-in
 * whose listing answers when the test says, so that it can answer after the stop.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Controller } from '../../src/controller/controller.js';
import type { ObservedContainer, RuntimeWatcher } from '../../src/runtime/types.js';
import { Store } from '../../src/store/store.js';

let dataDir: string;
let store: Store;

beforeEach(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rc-controller-'));
  store = new Store({ dataDir });
});

afterEach(() => {
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('a resync under way when the controller stops', () => {
  it('ends quietly instead of reading a store already closed', async () => {
    let answer: (containers: ObservedContainer[]) => void = () => {};
    let watcher: RuntimeWatcher | null = null;
    const runtime = {
      watch: (given: RuntimeWatcher) => {
        watcher = given;
        return () => {};
      },
      listManagedContainers: () =>
        new Promise<ObservedContainer[]>((resolve) => {
          answer = resolve;
        }),
    };
    const errors: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => errors.push(line) });
    const controller = new Controller({
      store,
      runtime,
      reconciler: { reconcile: async () => ({}) },
      logger,
      workers: 1,
      resyncIntervalMs: 60_000,
    });
    controller.start();
    // The events feed connects: a resync begins and waits on the listing.
    (watcher as RuntimeWatcher | null)?.onResync();
    await controller.stop();
    store.close();

    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      answer([]);
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
    expect(errors).toEqual([]);
  });
});
