/**
 * The structured logger. Level policy: failures retrying cannot fix, unexpected errors and 5xx
 * at error (the unexpected ones with their stack), failures being retried at warn, 4xx at info,
 * reconcile steps at debug. Secrets are redacted by path wherever they could appear.
 */
import { type Logger, pino } from 'pino';

export type { Logger };

const REDACTED_PATHS = [
  'password',
  'databasePassword',
  'token',
  'apiToken',
  '*.password',
  '*.databasePassword',
  '*.token',
  '*.apiToken',
  'body.databasePassword',
  'body.password',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'status.endpoint.url',
  '*.status.endpoint.url',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'redis-controller' },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  return destination ? pino(options, destination) : pino(options);
}
