/**
 * First start without API_TOKEN: a token is generated into the data dir, readable by the owner
 * only, accepted by the API, and never written to the log.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN_FILE } from '../../src/admin-token.js';
import { apiClient } from '../support/api.js';
import { startTestController, type TestController } from '../support/controller.js';

let controller: TestController;

beforeAll(async () => {
  controller = await startTestController({ API_TOKEN: '' });
});

afterAll(async () => {
  await controller?.stop();
});

describe('the generated admin token', () => {
  it('is written with mode 0600, works, and appears in no log line', async () => {
    const file = path.join(controller.dataDir, ADMIN_TOKEN_FILE);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const token = fs.readFileSync(file, 'utf8').trim();
    expect(token.length).toBeGreaterThanOrEqual(32);

    const client = apiClient(controller.client.baseUrl, token);
    expect((await client.get('/api/project.all')).status).toBe(200);
    expect((await client.get('/api/project.all', { 'x-api-key': token })).status).toBe(200);

    const log = fs.readFileSync(controller.logFile, 'utf8');
    expect(log).toContain(file);
    expect(log).not.toContain(token);
  });

  it('is kept across a restart while the file exists', async () => {
    const file = path.join(controller.dataDir, ADMIN_TOKEN_FILE);
    const before = fs.readFileSync(file, 'utf8');
    await controller.stop();
    controller = await startTestController({ API_TOKEN: '', DATA_DIR: controller.dataDir });
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
    const client = apiClient(controller.client.baseUrl, before.trim());
    expect((await client.get('/api/project.all')).status).toBe(200);
  });
});
