/**
 * Docker's multiplexed stdout/stderr framing, used by exec and logs of containers without a TTY:
 * each frame is an 8-byte header (stream type, three zero bytes, big-endian size) and a payload.
 */
import type { Readable } from 'node:stream';

const HEADER_BYTES = 8;

/** Payloads of every complete frame, stdout and stderr merged in order. */
export function demux(buffer: Buffer): string {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset + HEADER_BYTES <= buffer.length) {
    const type = buffer[offset];
    const size = buffer.readUInt32BE(offset + 4);
    if (type === undefined || type > 2 || offset + HEADER_BYTES + size > buffer.length) break;
    parts.push(buffer.subarray(offset + HEADER_BYTES, offset + HEADER_BYTES + size));
    offset += HEADER_BYTES + size;
  }
  // Input that is not framed at all (a TTY container) is returned as it is.
  if (offset === 0 && buffer.length > 0 && parts.length === 0) return buffer.toString('utf8');
  return Buffer.concat(parts).toString('utf8');
}

/** Collects a stream until it ends, or until `timeoutMs` passes (then null). */
export function collect(stream: Readable, timeoutMs: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      stream.destroy();
      resolve(null);
    }, timeoutMs);
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.once('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    stream.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}
