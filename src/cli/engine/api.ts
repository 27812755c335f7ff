/** Plain requests to the engine's HTTP API on its unix socket, for the few calls the tool makes. */
import http from 'node:http';
import type { Readable } from 'node:stream';

export interface ApiResponse {
  statusCode: number;
  body: string;
}

export function engineRequest(
  socketPath: string,
  method: string,
  requestPath: string,
  upload?: { stream: Readable; length: number },
): Promise<ApiResponse> {
  return new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = upload
      ? { 'Content-Type': 'application/x-tar', 'Content-Length': upload.length }
      : {};
    const options = { socketPath, method, path: requestPath, headers, agent: false };
    const request = http.request(options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        resolve({ statusCode: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    request.on('error', (error) => {
      reject(new Error(`${method} ${requestPath} on ${socketPath} failed`, { cause: error }));
    });
    if (upload) {
      upload.stream.on('error', (error) => request.destroy(error));
      upload.stream.pipe(request);
    } else {
      request.end();
    }
  });
}
