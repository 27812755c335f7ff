/**
 * The HTTP application: Dokploy-compatible paths under /api, token auth, JSON only.
 * Handlers write desired state through the store and never call a runtime.
 */
import { randomUUID } from 'node:crypto';
import express, { type Express, type Request, type RequestHandler } from 'express';
import { DomainError } from '../domain/errors.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/store.js';
import { requireToken } from './auth.js';
import { errorHandler, friendlyIssues, validationBody } from './errors.js';
import type { Procedure, ProcedureTable } from './procedure.js';
import { projectProcedures } from './project-procedures.js';
import { redisProcedures } from './redis-procedures.js';

export interface AppOptions {
  store: Store;
  logger: Logger;
}

/** Largest accepted request body; the biggest legitimate one is an env of 64 KiB. */
const BODY_LIMIT = '256kb';

export const procedures: ProcedureTable = { ...redisProcedures, ...projectProcedures };

export function createApp(options: AppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.use(requestLogger(options.logger));
  app.use(requireToken(options.store));
  app.use(requireJsonForPosts);
  app.use(express.json({ limit: BODY_LIMIT, strict: false }));

  for (const [name, proc] of Object.entries(procedures)) {
    const path = `/api/${name}`;
    const handler = procedureHandler(proc, options);
    if (proc.kind === 'query') app.get(path, handler);
    else app.post(path, handler);
  }

  app.use((req, _res, next) => {
    next(new DomainError('NOT_FOUND', `No procedure at ${req.method} ${req.path}`));
  });
  app.use(errorHandler(options.logger));
  return app;
}

function procedureHandler(proc: Procedure, options: AppOptions): RequestHandler {
  return async (req, res) => {
    const raw = proc.kind === 'query' ? queryInput(req) : req.body;
    const parsed = proc.input.safeParse(raw, { error: friendlyIssues });
    if (!parsed.success) {
      const body = validationBody(parsed.error);
      options.logger.info({ path: req.path, message: body.message }, 'request refused');
      res.status(400).json(body);
      return;
    }
    const result = await proc.handler(parsed.data, options);
    res.json(result ?? null);
  };
}

/** Query-string input: plain fields as given, or a tRPC-style `input` holding JSON. */
function queryInput(req: Request): unknown {
  const query = req.query as Record<string, unknown>;
  if (typeof query.input === 'string') {
    try {
      return JSON.parse(query.input);
    } catch (error) {
      throw new DomainError('BAD_REQUEST', 'input: must be URL-encoded JSON', { cause: error });
    }
  }
  return Object.keys(query).length > 0 ? query : undefined;
}

const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

const requireJsonForPosts: RequestHandler = (req, _res, next) => {
  if (req.method === 'POST' && !JSON_MEDIA_TYPE.test(req.headers['content-type'] ?? '')) {
    next(
      new DomainError(
        'UNSUPPORTED_MEDIA_TYPE',
        'POST bodies must be JSON (Content-Type: application/json)',
      ),
    );
    return;
  }
  next();
};

function requestLogger(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const reqId = randomUUID();
    const started = process.hrtime.bigint();
    res.setHeader('x-request-id', reqId);
    res.on('finish', () => {
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      logger.debug(
        { reqId, method: req.method, path: req.path, status: res.statusCode, durationMs },
        'request',
      );
    });
    next();
  };
}
