/**
 * Starts the HTTP API on port 0 over a real SQLite file in a temporary directory, and gives a
 * small client for it.
 */
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createApp } from '../../src/api/app.js';
import { createLogger } from '../../src/logger.js';
import { Store } from '../../src/store/store.js';

export const TEST_TOKEN = 'test-token-0123456789abcdef';

export interface ApiResponse {
  status: number;
  body: unknown;
}

export interface ApiClient {
  baseUrl: string;
  get(pathAndQuery: string, headers?: Record<string, string>): Promise<ApiResponse>;
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
  raw(path: string, init: RequestInit): Promise<ApiResponse>;
}

export function apiClient(baseUrl: string, token: string): ApiClient {
  const raw = async (requestPath: string, init: RequestInit): Promise<ApiResponse> => {
    const response = await fetch(`${baseUrl}${requestPath}`, init);
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON: the raw text is the body.
    }
    return { status: response.status, body };
  };
  const auth = { authorization: `Bearer ${token}` };
  return {
    baseUrl,
    raw,
    get: (pathAndQuery, headers = auth) => raw(pathAndQuery, { headers }),
    post: (requestPath, body, headers = auth) =>
      raw(requestPath, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      }),
  };
}

export interface TestApi {
  client: ApiClient;
  store: Store;
  dataDir: string;
  environmentId: string;
  close(): Promise<void>;
}

export async function startTestApi(): Promise<TestApi> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rc-api-'));
  const store = new Store({ dataDir });
  store.projects.seedDefaults();
  store.tokens.put('test', TEST_TOKEN);
  const app = createApp({ store, logger: createLogger('silent') });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  const environmentId = store.projects.listProjects()[0]?.environments[0]?.environmentId ?? '';

  return {
    client: apiClient(`http://127.0.0.1:${port}`, TEST_TOKEN),
    store,
    dataDir,
    environmentId,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      store.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
