/**
 * Configuration, read once from the environment at start-up and passed to every part that
 * needs it. Nothing else in the code base reads process.env.
 */
import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';

const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock';

const envSchema = z.object({
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  DATA_DIR: z.string().min(1).default('./data'),
  DOCKER_HOST: z.string().min(1).optional(),
  PUBLISH_HOST: z
    .string()
    .refine((value) => isIP(value) !== 0, 'must be an IP address, such as 0.0.0.0 or 127.0.0.1')
    .default('0.0.0.0'),
  API_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  SECRET_KEY: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  RESYNC_INTERVAL_MS: z.coerce.number().int().min(1000).default(30_000),
  READY_TIMEOUT_MS: z.coerce.number().int().min(1000).default(60_000),
  STOP_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(600).default(30),
  RECONCILE_WORKERS: z.coerce.number().int().min(1).max(64).default(4),
});

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  /** `unix:///path`, `tcp://host:port`, or a bare socket path. */
  dockerHost: string;
  /** Host address external ports are published on. */
  publishHost: string;
  /** An admin token given by the operator; when absent one is generated into the data dir. */
  apiToken: string | null;
  /** Key that encrypts secrets at rest; when absent, `<dataDir>/secret.key` is used. */
  secretKey: string | null;
  logLevel: string;
  /** How often every record is reconciled even without a change, as a safety net. */
  resyncIntervalMs: number;
  /** How long a started Redis may take to answer an authenticated PING. */
  readyTimeoutMs: number;
  /** Grace period between SIGTERM and SIGKILL when stopping Redis, so it can save. */
  stopTimeoutSeconds: number;
  reconcileWorkers: number;
}

/** Parses the environment; throws an Error naming each bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable means "not set", as shells make it easy to export one by accident.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`);
    throw new Error(`invalid configuration: ${problems.join('; ')}`);
  }
  const values = parsed.data;
  return {
    host: values.HOST,
    port: values.PORT,
    dataDir: path.resolve(values.DATA_DIR),
    dockerHost: values.DOCKER_HOST ?? DEFAULT_DOCKER_HOST,
    publishHost: values.PUBLISH_HOST,
    apiToken: values.API_TOKEN ?? null,
    secretKey: values.SECRET_KEY ?? null,
    logLevel: values.LOG_LEVEL,
    resyncIntervalMs: values.RESYNC_INTERVAL_MS,
    readyTimeoutMs: values.READY_TIMEOUT_MS,
    stopTimeoutSeconds: values.STOP_TIMEOUT_SECONDS,
    reconcileWorkers: values.RECONCILE_WORKERS,
  };
}
