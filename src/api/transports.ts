/**
 * The two wire formats every procedure is served in:
 * - REST, as Dokploy's OpenAPI clients and curl use it: `POST /api/redis.create` with the input
 *   as the JSON body, `GET /api/redis.one?redisId=…`; the answer is the plain result.
 * - tRPC, as Dokploy's own CLI uses it: `POST /api/trpc/redis.create` with `{"json": input}`,
 *   `GET /api/trpc/redis.one?input=<JSON>`; the answer is `{"result":{"data":{"json": …}}}`.
 */
import type { Request, RequestHandler } from 'express';
import { DomainError, HTTP_STATUS } from '../domain/errors.js';
import { friendlyIssues, sendError, toErrorBody, validationBody, type Wire } from './errors.js';
import type { Procedure, ProcedureContext } from './procedure.js';

export function procedureHandler(
  name: string,
  proc: Procedure,
  context: ProcedureContext,
  wire: Wire,
): RequestHandler {
  return async (req, res) => {
    let raw: unknown;
    try {
      raw = rawInput(req, proc, wire);
    } catch (error) {
      sendError(res, toErrorBody(error), name, wire);
      return;
    }
    const parsed = proc.input.safeParse(raw, { error: friendlyIssues });
    if (!parsed.success) {
      const body = validationBody(parsed.error);
      context.logger.info({ procedure: name, message: body.message }, 'request refused');
      sendError(res, body, name, wire);
      return;
    }

    try {
      const result = (await proc.handler(parsed.data, context)) ?? null;
      res.json(wire === 'trpc' ? { result: { data: { json: result } } } : result);
    } catch (error) {
      const body = toErrorBody(error);
      if (HTTP_STATUS[body.code] >= 500) {
        context.logger.error({ procedure: name, err: error }, 'request failed');
      } else {
        context.logger.info({ procedure: name, message: body.message }, 'request refused');
      }
      sendError(res, body, name, wire);
    }
  };
}

/** The input as sent; nothing at all counts as `{}`, so a missing field is named as such. */
function rawInput(req: Request, proc: Procedure, wire: Wire): unknown {
  const query = req.query as Record<string, unknown>;
  if (proc.kind === 'mutation') return orEmpty(wire === 'trpc' ? unwrap(req.body) : req.body);

  if (typeof query.input === 'string') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(query.input);
    } catch (error) {
      throw new DomainError('BAD_REQUEST', 'input: must be URL-encoded JSON', { cause: error });
    }
    return orEmpty(unwrap(parsed));
  }
  return query;
}

function orEmpty(value: unknown): unknown {
  return value === undefined ? {} : value;
}

/** tRPC clients with a transformer wrap the input as `{ json: … }`; plain ones do not. */
function unwrap(value: unknown): unknown {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const keys = Object.keys(value);
    if (keys.includes('json') && keys.every((key) => key === 'json' || key === 'meta')) {
      return (value as { json: unknown }).json;
    }
  }
  return value;
}
