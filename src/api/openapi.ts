/**
 * The OpenAPI 3.1 document, generated from the same zod schemas that validate requests, so it
 * cannot drift from what the server accepts.
 */
import { z } from 'zod';
import type { ProcedureTable } from './procedure.js';

type JsonSchema = Record<string, unknown>;

function inputSchema(schema: z.ZodType): JsonSchema {
  // Input side: what a client sends, before defaults and normalisation are applied.
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
}

const errorResponse = (description: string): JsonSchema => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

function queryParameters(schema: JsonSchema): JsonSchema[] {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: 'query',
    required: required.has(name),
    schema: property,
  }));
}

export function openApiDocument(procedures: ProcedureTable): JsonSchema {
  const paths: Record<string, JsonSchema> = {};
  for (const [name, proc] of Object.entries(procedures)) {
    const schema = inputSchema(proc.input);
    const { $schema: _dialect, ...body } = schema;
    const operation: JsonSchema = {
      operationId: name,
      tags: [name.split('.')[0]],
      security: [{ bearer: [] }, { apiKey: [] }],
      responses: {
        '200': { description: 'The result', content: { 'application/json': { schema: {} } } },
        '400': errorResponse('Invalid input; `issues` names each field and its rule'),
        '401': errorResponse('No valid token'),
        '404': errorResponse('A referenced resource does not exist'),
        '409': errorResponse('Conflicts with the current state'),
        '413': errorResponse('The body is over 256 KB'),
        '415': errorResponse('The body is not JSON'),
        '500': errorResponse('Internal error; the body says nothing more'),
      },
    };
    paths[`/api/${name}`] =
      proc.kind === 'query'
        ? { get: { ...operation, parameters: queryParameters(body) } }
        : {
            post: {
              ...operation,
              requestBody: { required: true, content: { 'application/json': { schema: body } } },
            },
          };
  }

  return {
    openapi: '3.1.0',
    info: {
      title: 'redis-controller',
      version: '1',
      description: "Redis databases as desired state, on Dokploy's API paths",
    },
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['message', 'code'],
          properties: {
            message: { type: 'string' },
            code: { type: 'string' },
            issues: { type: 'array', items: { type: 'object' } },
          },
        },
      },
    },
  };
}
