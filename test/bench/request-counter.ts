/**
 * Counts the HTTP requests in one client-to-engine byte stream without buffering bodies: it reads
 * each request head, skips its body by Content-Length or chunked framing, and stops reading once
 * a request upgrades the connection (exec start, attach), after which the bytes are raw stdin.
 */

/** A request head larger than this is not HTTP we understand; the rest is left uncounted. */
const MAX_HEAD_BYTES = 64 * 1024;

const HEAD_END = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');

type State =
  | { kind: 'head' }
  | { kind: 'body'; remaining: number }
  | { kind: 'chunkSize' }
  | { kind: 'chunkData'; remaining: number }
  | { kind: 'trailer' }
  | { kind: 'raw' };

/** `METHOD /path` with the API version, query and object names taken out, so calls group. */
export function routeOf(method: string, target: string): string {
  let route = target.split('?')[0] ?? '';
  route = route.replace(/^\/v\d+(\.\d+)?(?=\/)/, '');
  route = route.replace(/^\/images\/.+\/(json|history|push|tag|get)$/, '/images/{name}/$1');
  route = route.replace(
    /^\/(containers|volumes|exec|networks)\/(?!(?:json|create|prune)(?:\/|$))[^/]+/,
    '/$1/{id}',
  );
  return `${method} ${route}`;
}

export class RequestCounter {
  private state: State = { kind: 'head' };
  private pending: Buffer = Buffer.alloc(0);
  /** Set by a request asking to upgrade; its body is still framed, what follows is not. */
  private upgradeAfterBody = false;

  /** Called with the route of each request as soon as its head has arrived. */
  constructor(private readonly onRequest: (route: string) => void) {}

  feed(chunk: Buffer): void {
    let data = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = Buffer.alloc(0);

    while (data.length > 0 && this.state.kind !== 'raw') {
      const state = this.state;
      if (state.kind === 'body' || state.kind === 'chunkData') {
        const taken = Math.min(state.remaining, data.length);
        data = data.subarray(taken);
        state.remaining -= taken;
        if (state.remaining > 0) return;
        if (state.kind === 'body') this.endOfMessage();
        else this.state = { kind: 'chunkSize' };
        continue;
      }

      const delimiter = state.kind === 'head' ? HEAD_END : CRLF;
      const end = data.indexOf(delimiter);
      if (end < 0) {
        if (data.length > MAX_HEAD_BYTES) this.state = { kind: 'raw' };
        else this.pending = Buffer.from(data);
        return;
      }
      const text = data.toString('latin1', 0, end);
      data = data.subarray(end + delimiter.length);

      if (state.kind === 'head') this.readHead(text);
      else if (state.kind === 'chunkSize') this.readChunkSize(text);
      else if (text === '') this.endOfMessage();
    }
  }

  private readHead(text: string): void {
    const [requestLine = '', ...headerLines] = text.split('\r\n');
    const [method, target] = requestLine.split(' ');
    if (!method || !target) {
      // Not a request line: the framing was lost, so counting further would be guessing.
      this.state = { kind: 'raw' };
      return;
    }
    this.onRequest(routeOf(method, target));

    const headers = new Map<string, string>();
    for (const line of headerLines) {
      const colon = line.indexOf(':');
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1));
    }
    this.upgradeAfterBody =
      headers.has('upgrade') || /upgrade/i.test(headers.get('connection') ?? '');

    if (/chunked/i.test(headers.get('transfer-encoding') ?? '')) {
      this.state = { kind: 'chunkSize' };
      return;
    }
    const length = Number(headers.get('content-length') ?? 0);
    if (length > 0) this.state = { kind: 'body', remaining: length };
    else this.endOfMessage();
  }

  private readChunkSize(text: string): void {
    const size = Number.parseInt(text.split(';')[0] ?? '', 16);
    if (Number.isNaN(size)) this.state = { kind: 'raw' };
    // The chunk's data is followed by its own CRLF, skipped together with it.
    else if (size > 0) this.state = { kind: 'chunkData', remaining: size + 2 };
    else this.state = { kind: 'trailer' };
  }

  private endOfMessage(): void {
    this.state = this.upgradeAfterBody ? { kind: 'raw' } : { kind: 'head' };
    this.upgradeAfterBody = false;
  }
}
