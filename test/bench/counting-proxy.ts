/**
 * Starts the counting proxy in a child process of its own, in front of the engine socket, and
 * asks it for counts over IPC.
 */
import { type ChildProcess, fork } from 'node:child_process';
import fs from 'node:fs';
import type { CountReply, CountRequest } from './counting-proxy-process.js';

/** How long the child may take to start (tsx compiles it first). */
const START_TIMEOUT_MS = 15_000;

export interface EngineCalls {
  total: number;
  /** Requests per `METHOD /route`, object names replaced by placeholders. */
  routes: Record<string, number>;
}

export interface CountingProxy {
  /** `unix://` address of the proxy, to give the controller as DOCKER_HOST. */
  dockerHost: string;
  /** The requests since the last reset; with `reset`, counting starts again from zero. */
  calls(options?: { reset?: boolean }): Promise<EngineCalls>;
  stop(): Promise<void>;
}

export async function startCountingProxy(
  engineSocket: string,
  listenSocket: string,
): Promise<CountingProxy> {
  // fork() passes on tsx's loader flags, so the child runs TypeScript like this process.
  const child = fork(new URL('./counting-proxy-process.ts', import.meta.url), [
    engineSocket,
    listenSocket,
  ]);
  await waitListening(child);

  let nextId = 0;
  const waiting = new Map<number, (reply: CountReply) => void>();
  child.on('message', (message: CountReply) => {
    waiting.get(message.id)?.(message);
    waiting.delete(message.id);
  });

  return {
    dockerHost: `unix://${listenSocket}`,
    calls: ({ reset = false } = {}) =>
      new Promise((resolve) => {
        const id = nextId++;
        waiting.set(id, ({ total, routes }) => resolve({ total, routes }));
        const request: CountRequest = { id, reset };
        child.send(request);
      }),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      fs.rmSync(listenSocket, { force: true });
    },
  };
}

function waitListening(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error('the counting proxy did not start listening'));
    }, START_TIMEOUT_MS);
    child.once('message', () => {
      clearTimeout(timer);
      resolve();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the counting proxy exited with code ${code} before listening`));
    });
  });
}
