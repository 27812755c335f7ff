/**
 * The `server.*` verbs: Docker engines databases can be placed on with `serverId`. Private keys
 * are accepted, stored encrypted and never shown again.
 */
import { z } from 'zod';
import { publicServer, serverSpecSchema } from '../domain/server.js';
import { noInput } from './inputs.js';
import { type ProcedureTable, procedure } from './procedure.js';

const serverIdInput = z.object({
  serverId: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(128, 'must be at most 128 characters'),
});

/** Dokploy's SSH fields (ipAddress, port, username) are accepted as another way to say ssh://. */
const serverCreateInput = serverSpecSchema
  .partial()
  .extend({
    name: serverSpecSchema.shape.name,
    ipAddress: z
      .string()
      .regex(/^[A-Za-z0-9.:-]{1,253}$/, 'must be a host name or an IP address')
      .optional(),
    port: z.number().int().min(1, 'must be 1–65535').max(65535, 'must be 1–65535').optional(),
    username: z
      .string()
      .regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'must be a Unix user name')
      .optional(),
  })
  .transform((input, ctx) => {
    const { ipAddress, port, username, ...spec } = input;
    let dockerHost = spec.dockerHost;
    if (!dockerHost && ipAddress) {
      dockerHost = `ssh://${username ?? 'root'}@${ipAddress}${port ? `:${port}` : ''}`;
    }
    if (!dockerHost) {
      ctx.addIssue({
        code: 'custom',
        path: ['dockerHost'],
        message: 'is required (or ipAddress, with optional port and username, for ssh)',
      });
      return z.NEVER;
    }
    return serverSpecSchema.parse({
      description: null,
      publicHost: null,
      tlsCa: null,
      tlsCert: null,
      tlsKey: null,
      sshPrivateKey: null,
      ...spec,
      dockerHost,
    });
  });

export const serverProcedures: ProcedureTable = {
  'server.create': procedure('mutation', serverCreateInput, (input, { store }) =>
    publicServer(store.servers.create(input)),
  ),

  'server.one': procedure('query', serverIdInput, ({ serverId }, { store }) =>
    publicServer(store.servers.find(serverId)),
  ),

  'server.all': procedure('query', noInput, (_input, { store }) =>
    store.servers.list().map(publicServer),
  ),

  'server.remove': procedure('mutation', serverIdInput, ({ serverId }, context) => {
    const removed = context.store.servers.remove(serverId);
    context.onServerRemoved(serverId);
    return publicServer(removed);
  }),
};
