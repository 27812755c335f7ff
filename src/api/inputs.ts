/**
 * Inputs of the API's procedures, each derived from the one resource schema in domain/.
 */
import { z } from 'zod';
import { DEFAULT_REDIS_IMAGE, externalPortSchema, redisSpecSchema } from '../domain/redis.js';

const idSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(128, 'must be at most 128 characters');

export const redisIdInput = z.object({ redisId: idSchema });

const optionalSpec = redisSpecSchema.partial();

/** Dokploy's create fields are required as it requires them; the rest of the spec may come too. */
export const redisCreateInput = optionalSpec.extend({
  name: redisSpecSchema.shape.name,
  appName: redisSpecSchema.shape.appName,
  databasePassword: redisSpecSchema.shape.databasePassword,
  environmentId: redisSpecSchema.shape.environmentId,
  dockerImage: redisSpecSchema.shape.dockerImage.default(DEFAULT_REDIS_IMAGE),
});

export const saveExternalPortInput = z.object({
  redisId: idSchema,
  externalPort: externalPortSchema,
});

export const projectIdInput = z.object({ projectId: idSchema });
