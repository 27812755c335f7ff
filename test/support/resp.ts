/**
 * A minimal Redis client for tests: sends commands in RESP and reads one reply per command.
 * Tests talk to Redis the way any client would, over TCP on the published port.
 */
import net from 'node:net';

export type Reply = string | number | null | Error | Reply[];

export class RespClient {
  private buffer = Buffer.alloc(0);
  private waiting: (() => void) | null = null;
  private closed = false;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.waiting?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiting?.();
    });
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RespClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host }, () => resolve(new RespClient(socket)));
      socket.once('error', reject);
    });
  }

  async command(...args: string[]): Promise<Reply> {
    let frame = `*${args.length}\r\n`;
    for (const arg of args) frame += `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`;
    this.socket.write(frame);
    return this.readReply();
  }

  close(): void {
    this.socket.destroy();
  }

  private async readReply(): Promise<Reply> {
    for (;;) {
      const parsed = parseReply(this.buffer, 0);
      if (parsed) {
        this.buffer = this.buffer.subarray(parsed.end);
        return parsed.value;
      }
      if (this.closed) throw new Error('connection closed before a reply');
      await new Promise<void>((resolve) => {
        this.waiting = resolve;
      });
      this.waiting = null;
    }
  }
}

function parseReply(buffer: Buffer, start: number): { value: Reply; end: number } | null {
  const lineEnd = buffer.indexOf('\r\n', start);
  if (lineEnd < 0) return null;
  const type = String.fromCharCode(buffer[start] ?? 0);
  const line = buffer.toString('utf8', start + 1, lineEnd);
  const next = lineEnd + 2;
  switch (type) {
    case '+':
      return { value: line, end: next };
    case '-':
      return { value: new Error(line), end: next };
    case ':':
      return { value: Number(line), end: next };
    case '$': {
      const length = Number(line);
      if (length < 0) return { value: null, end: next };
      if (buffer.length < next + length + 2) return null;
      return { value: buffer.toString('utf8', next, next + length), end: next + length + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { value: null, end: next };
      const items: Reply[] = [];
      let cursor = next;
      for (let index = 0; index < count; index++) {
        const item = parseReply(buffer, cursor);
        if (!item) return null;
        items.push(item.value);
        cursor = item.end;
      }
      return { value: items, end: cursor };
    }
    default:
      throw new Error(`unexpected RESP type ${JSON.stringify(type)}`);
  }
}

/** Connects, authenticates as the default user and runs one command. */
export async function redisCommand(
  port: number,
  password: string | null,
  ...args: string[]
): Promise<Reply> {
  const client = await RespClient.connect(port);
  try {
    if (password !== null) {
      const auth = await client.command('AUTH', 'default', password);
      if (auth instanceof Error) return auth;
    }
    return await client.command(...args);
  } finally {
    client.close();
  }
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
