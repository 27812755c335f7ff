/**
 * Turning errors into HTTP answers. Domain errors carry their own code and message; zod errors
 * become 400 with every offending field named; anything else is a 500 whose body says nothing
 * about the inside.
 */
import type { ErrorRequestHandler } from 'express';
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
  return `must be ${issue.expected === 'array' ? 'an array' : `a ${issue.expected}`}`;
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
    return { message: 'The request body is too large', code: 'BAD_REQUEST' };
  }
  if (typeof candidate?.type === 'string' && candidate.status === 415) {
    return {
      message: 'The request body encoding is not supported',
      code: 'UNSUPPORTED_MEDIA_TYPE',
    };
  }
  return null;
}

export function toErrorBody(error: unknown): ErrorBody {
  if (error instanceof DomainError) return { message: error.message, code: error.code };
  if (error instanceof z.ZodError) return validationBody(error);
  return (
    bodyParserError(error) ?? { message: 'Internal server error', code: 'INTERNAL_SERVER_ERROR' }
  );
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const body = toErrorBody(error);
    const status = HTTP_STATUS[body.code];
    const context = { method: req.method, path: req.path, status, code: body.code };
    if (status >= 500) logger.error({ ...context, err: error }, 'request failed');
    else logger.info({ ...context, message: body.message }, 'request refused');
    res.status(status).json(body);
  };
}
