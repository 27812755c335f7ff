/**
 * The HTTP application: Dokploy-compatible paths under /api, token auth, JSON only.
 * Handlers write desired state through the store and never call a runtime.
 */
import { randomUUID } from 'node:crypto';
import express, { type Express, type RequestHandler } from 'express';
import { DomainError } from '../domain/errors.js';
import type { Logger } from '../logger.js';
import type { PortProbe } from '../runtime/host-ports.js';
import type { Store } from '../store/store.js';
import { requireToken } from './auth.js';
import { errorHandler } from './errors.js';
import { openApiDocument } from './openapi.js';
import type { ProcedureContext, ProcedureTable, RuntimeObserver } from './procedure.js';
import { projectProcedures } from './project-procedures.js';
import { redisProcedures } from './redis-procedures.js';
import { serverProcedures } from './server-procedures.js';
import { procedureHandler } from './transports.js';

export interface AppOptions {
  store: Store;
  logger: Logger;
  observer?: RuntimeObserver | null;
  portProbe?: PortProbe | null;
  /** The per-server runtimes, told when a server goes away. */
  runtimes?: { forget(serverId: string): void };
}

/** Largest accepted request body; the biggest legitimate one is an env of 64 KiB. */
const BODY_LIMIT = '256kb';

export const procedures: ProcedureTable = {
  ...redisProcedures,
  ...projectProcedures,
  ...serverProcedures,
};

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
  app.use(
    express.json({
      limit: BODY_LIMIT,
      strict: false,
      type: (req) => JSON_MEDIA_TYPE.test(req.headers['content-type'] ?? ''),
    }),
  );

  const context: ProcedureContext = {
    store: options.store,
    logger: options.logger,
    observer: options.observer ?? null,
    portProbe: options.portProbe ?? null,
    onServerChanged: (serverId) => options.runtimes?.forget(serverId),
  };
  for (const [name, proc] of Object.entries(procedures)) {
    const route = proc.kind === 'query' ? app.get.bind(app) : app.post.bind(app);
    route(`/api/${name}`, procedureHandler(name, proc, context, 'rest'));
    route(`/api/trpc/${name}`, procedureHandler(name, proc, context, 'trpc'));
  }
  const openapi = openApiDocument(procedures);
  app.get('/api/openapi.json', (_req, res) => {
    res.json(openapi);
  });

  app.use((req, _res, next) => {
    next(new DomainError('NOT_FOUND', `No procedure at ${req.method} ${req.path}`));
  });
  app.use(errorHandler(options.logger));
  return app;
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
