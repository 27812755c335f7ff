/**
 * Inputs of the API's procedures, each derived from the one resource schema in domain/.
 * Objects drop keys they do not know, as Dokploy's do, so its clients' extra fields are harmless.
 */
import { z } from 'zod';
import {
  applicationStatuses,
  DEFAULT_REDIS_IMAGE,
  descriptionSchema,
  displayNameSchema,
  envSchema,
  externalPortSchema,
  passwordSchema,
  redisSpecSchema,
} from '../domain/redis.js';

const idSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(128, 'must be at most 128 characters');

const nameSchema = displayNameSchema;

const optionalDescription = descriptionSchema.nullish();

/** Query strings carry numbers as text; JSON bodies carry them as numbers. Both are accepted. */
function integer(schema: z.ZodNumber): z.ZodType<number, unknown> {
  return z.preprocess(
    (value) => (typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value),
    schema,
  );
}

export const redisIdInput = z.object({ redisId: idSchema });

const optionalSpec = redisSpecSchema.partial();

/** Dokploy's create fields are required as it requires them; the rest of the spec may come too. */
export const redisCreateInput = optionalSpec.extend({
  name: redisSpecSchema.shape.name,
  /** When absent, one is made from the name, as Dokploy does. */
  appName: redisSpecSchema.shape.appName.optional(),
  databasePassword: redisSpecSchema.shape.databasePassword,
  environmentId: redisSpecSchema.shape.environmentId,
  dockerImage: redisSpecSchema.shape.dockerImage.default(DEFAULT_REDIS_IMAGE),
});

export const redisUpdateInput = optionalSpec.extend({
  redisId: idSchema,
  applicationStatus: z
    .enum(applicationStatuses, { error: 'must be one of idle, running, done, error' })
    .optional(),
});

export const reloadInput = z.object({
  redisId: idSchema,
  appName: z.string().max(128, 'must be at most 128 characters'),
});

export const saveEnvironmentInput = z.object({ redisId: idSchema, env: envSchema });

export const saveExternalPortInput = z.object({
  redisId: idSchema,
  externalPort: externalPortSchema,
});

export const changeStatusInput = z.object({
  redisId: idSchema,
  applicationStatus: z.enum(applicationStatuses, {
    error: 'must be one of idle, running, done, error',
  }),
});

export const changePasswordInput = z.object({ redisId: idSchema, password: passwordSchema });

export const moveInput = z.object({ redisId: idSchema, targetEnvironmentId: idSchema });

const filterText = z.string().max(200, 'must be at most 200 characters').optional();

export const searchInput = z
  .object({
    q: filterText,
    name: filterText,
    appName: filterText,
    description: filterText,
    projectId: filterText,
    environmentId: filterText,
    limit: integer(
      z
        .number()
        .int('must be an integer')
        .min(1, 'must be at least 1')
        .max(100, 'must be at most 100'),
    ).default(20),
    offset: integer(z.number().int('must be an integer').min(0, 'must be at least 0')).default(0),
  })
  .default({ limit: 20, offset: 0 });

export const readLogsInput = z.object({
  redisId: idSchema,
  tail: integer(
    z
      .number()
      .int('must be an integer')
      .min(1, 'must be between 1 and 10000')
      .max(10000, 'must be between 1 and 10000'),
  ).default(100),
  since: z
    .string()
    .regex(/^(all|\d{1,9}[smhd])$/, 'must be "all" or a number with s, m, h or d (for example 15m)')
    .default('all'),
  search: z
    .string()
    .regex(/^[a-zA-Z0-9 ._-]{0,500}$/, 'must be at most 500 letters, digits, spaces, . _ or -')
    .optional(),
});

export const projectIdInput = z.object({ projectId: idSchema });

export const projectCreateInput = z.object({
  name: nameSchema,
  description: optionalDescription,
});

export const environmentIdInput = z.object({ environmentId: idSchema });

export const environmentCreateInput = z.object({
  name: nameSchema,
  description: optionalDescription,
  projectId: idSchema,
});

/** Inputs of queries that take none; tolerant of the `{}` or nothing clients send. */
export const noInput = z.object({}).optional();
