/**
 * Turning errors into HTTP answers. Domain errors carry their own code and message; zod errors
 * become 400 with every offending field named; anything else is a 500 whose body says nothing
 * about the inside.
 */
import type { ErrorRequestHandler, Response } from 'express';
import { z } from 'zod';
import { DomainError, type ErrorCode, HTTP_STATUS } from '../domain/errors.js';
import type { Logger } from '../logger.js';

export interface ErrorBody {
  message: string;
  code: ErrorCode;
  issues?: z.core.$ZodIssue[];
}

/** A zod failure as a 400 body: the message names each field and its rule. */
export function validationBody(error: z.ZodError): ErrorBody {
  const parts = error.issues.map((issue) => {
    const field = issue.path.length > 0 ? issue.path.join('.') : 'input';
    return `${field}: ${issue.message}`;
  });
  return {
    message: `Invalid input: ${parts.join('; ')}`,
    code: 'BAD_REQUEST',
    issues: error.issues,
  };
}

/** Zod's message for a missing field reads "expected string, received undefined". */
export const friendlyIssues: z.core.$ZodErrorMap = (issue) => {
  if (issue.code !== 'invalid_type') return undefined;
  if (issue.input === undefined) return 'is required';
  const expected = String(issue.expected);
  return `must be ${/^[aeiou]/.test(expected) ? 'an' : 'a'} ${expected}`;
};

interface ExpressBodyError {
  type?: string;
  status?: number;
}

function bodyParserError(error: unknown): ErrorBody | null {
  const candidate = error as ExpressBodyError;
  if (candidate?.type === 'entity.parse.failed') {
    return { message: 'The request body is not valid JSON', code: 'BAD_REQUEST' };
  }
  if (candidate?.type === 'entity.too.large') {
    return { message: 'The request body is too large', code: 'PAYLOAD_TOO_LARGE' };
  }
  if (candidate?.status === 415) {
    return {
      message: 'The request body encoding is not supported',
      code: 'UNSUPPORTED_MEDIA_TYPE',
    };
  }
  // Anything else the body reader refuses (a body that does not match its Content-Encoding, a
  // wrong length) is the client's fault too.
  if (typeof candidate?.status === 'number' && candidate.status >= 400 && candidate.status < 500) {
    return { message: 'The request body could not be read', code: 'BAD_REQUEST' };
  }
  return null;
}

export function toErrorBody(error: unknown): ErrorBody {
  if (error instanceof DomainError) {
    const body: ErrorBody = { message: error.message, code: error.code };
    if (error.field !== undefined) {
      const issue = { code: 'custom', path: [error.field], message: error.message };
      body.issues = [issue as z.core.$ZodIssue];
    }
    return body;
  }
  if (error instanceof z.ZodError) return validationBody(error);
  return (
    bodyParserError(error) ?? { message: 'Internal server error', code: 'INTERNAL_SERVER_ERROR' }
  );
}

export type Wire = 'rest' | 'trpc';

/** JSON-RPC error numbers tRPC uses for each code. */
const TRPC_ERROR_NUMBERS: Record<string, number> = {
  BAD_REQUEST: -32600,
  UNAUTHORIZED: -32001,
  NOT_FOUND: -32004,
  CONFLICT: -32009,
  PAYLOAD_TOO_LARGE: -32013,
  UNSUPPORTED_MEDIA_TYPE: -32015,
  INTERNAL_SERVER_ERROR: -32603,
};

export function sendError(res: Response, body: ErrorBody, path: string, wire: Wire): void {
  const httpStatus = HTTP_STATUS[body.code];
  if (wire === 'rest') {
    res.status(httpStatus).json(body);
    return;
  }
  res.status(httpStatus).json({
    error: {
      json: {
        message: body.message,
        code: TRPC_ERROR_NUMBERS[body.code] ?? -32603,
        data: { code: body.code, httpStatus, path, ...(body.issues && { issues: body.issues }) },
      },
    },
  });
}

export const TRPC_PREFIX = '/api/trpc/';

/** The last stop for errors raised outside a procedure (body parsing, content type, 404). */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const body = toErrorBody(error);
    const status = HTTP_STATUS[body.code];
    const context = { method: req.method, path: req.path, status, code: body.code };
    if (status >= 500) logger.error({ ...context, err: error }, 'request failed');
    else logger.info({ ...context, message: body.message }, 'request refused');
    const trpc = req.path.startsWith(TRPC_PREFIX);
    sendError(
      res,
      body,
      trpc ? req.path.slice(TRPC_PREFIX.length) : req.path,
      trpc ? 'trpc' : 'rest',
    );
  };
}
