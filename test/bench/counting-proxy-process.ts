/**
 * The counting proxy's own process: listens on a unix socket, pipes every connection byte for
 * byte to the engine socket, and counts the requests each one carries. It runs apart from the
 * controller so that its CPU time is not charged to the controller being measured.
 *
 * argv: <engine socket> <listen socket>. IPC: `{ id, reset }` asks for the counts since the last
 * reset (and resets them when `reset` is true); the answer is `{ id, total, routes }`.
 */
import fs from 'node:fs';
import net from 'node:net';
import { RequestCounter } from './request-counter.js';

export interface CountRequest {
  id: number;
  reset: boolean;
}

export interface CountReply {
  id: number;
  total: number;
  routes: Record<string, number>;
}

const [engineSocket, listenSocket] = process.argv.slice(2);
if (!engineSocket || !listenSocket || !process.send) {
  process.stderr.write('usage: forked with <engine socket> <listen socket> and an IPC channel\n');
  process.exit(2);
}

let routes = new Map<string, number>();

const server = net.createServer({ allowHalfOpen: true }, (client) => {
  const engine = net.connect({ path: engineSocket, allowHalfOpen: true });
  const counter = new RequestCounter((route) => routes.set(route, (routes.get(route) ?? 0) + 1));

  client.on('data', (chunk: Buffer) => counter.feed(chunk));
  // pipe() carries each side's end over as a half-close, which hijacked exec streams rely on.
  client.pipe(engine);
  engine.pipe(client);
  const close = (): void => {
    client.destroy();
    engine.destroy();
  };
  client.once('error', close);
  engine.once('error', close);
  client.once('close', close);
  engine.once('close', close);
});

process.on('message', (message: CountRequest) => {
  let total = 0;
  for (const count of routes.values()) total += count;
  const reply: CountReply = { id: message.id, total, routes: Object.fromEntries(routes) };
  if (message.reset) routes = new Map();
  process.send?.(reply);
});

// The benchmark owns this process; when it goes away, so does the proxy.
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));

fs.rmSync(listenSocket, { force: true });
server.listen(listenSocket, () => process.send?.({ listening: true }));
server.on('error', (error) => {
  process.stderr.write(`counting proxy: ${error.message}\n`);
  process.exit(1);
});
