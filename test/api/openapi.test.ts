/**
 * The OpenAPI document a client generator would read: every verb, with the fields and rules
 * the server enforces.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { procedures } from '../../src/api/app.js';
import { startTestApi, type TestApi } from '../support/api.js';

interface Operation {
  operationId: string;
  parameters?: { name: string; in: string; required: boolean }[];
  requestBody?: {
    content: {
      'application/json': {
        schema: { properties: Record<string, Record<string, unknown>>; required?: string[] };
      };
    };
  };
}

interface Document {
  openapi: string;
  paths: Record<string, { get?: Operation; post?: Operation }>;
}

let api: TestApi;
let document: Document;

beforeAll(async () => {
  api = await startTestApi();
  const response = await api.client.get('/api/openapi.json');
  expect(response.status).toBe(200);
  document = response.body as Document;
});

afterAll(async () => {
  await api.close();
});

function bodyOf(path: string) {
  const schema = document.paths[path]?.post?.requestBody?.content['application/json'].schema;
  if (!schema) throw new Error(`${path} has no JSON request body`);
  return schema;
}

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1 and describes every verb, queries as GET and mutations as POST', () => {
    expect(document.openapi).toBe('3.1.0');
    for (const [name, proc] of Object.entries(procedures)) {
      const path = document.paths[`/api/${name}`];
      const operation = proc.kind === 'query' ? path?.get : path?.post;
      expect(operation?.operationId, name).toBe(name);
    }
    expect(Object.keys(document.paths)).toHaveLength(Object.keys(procedures).length);
  });

  it("states redis.create's required fields and the external port's range", () => {
    const schema = bodyOf('/api/redis.create');
    expect(schema.required).toEqual(
      expect.arrayContaining(['name', 'databasePassword', 'environmentId']),
    );
    expect(schema.properties.externalPort).toMatchObject({
      anyOf: expect.arrayContaining([expect.objectContaining({ minimum: 1024, maximum: 65535 })]),
    });
  });

  it('gives query verbs their input as query parameters', () => {
    const parameters = document.paths['/api/redis.one']?.get?.parameters ?? [];
    expect(parameters).toContainEqual(
      expect.objectContaining({ name: 'redisId', in: 'query', required: true }),
    );
  });

  it('describes server.update, sshHostKey included', () => {
    const schema = bodyOf('/api/server.update');
    expect(schema.required).toEqual(['serverId']);
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(['dockerHost', 'sshHostKey', 'ipAddress']),
    );
  });
});
