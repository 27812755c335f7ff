/**
 * The `server.*` verbs: Docker engines databases can be placed on with `serverId`. Private keys
 * are accepted, stored encrypted and never shown again.
 */
import { z } from 'zod';
import { publicServer, type ServerSpec, serverSpecSchema } from '../domain/server.js';
import { noInput } from './inputs.js';
import { type ProcedureTable, procedure } from './procedure.js';

const serverIdInput = z.object({
  serverId: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(128, 'must be at most 128 characters'),
});

/**
 * Every server field, optional, plus Dokploy's SSH fields (ipAddress, port, username) as another
 * way to say ssh://.
 */
const serverFields = serverSpecSchema.partial().extend({
  ipAddress: z
    .string()
    .regex(/^[A-Za-z0-9.:-]{1,253}$/, 'must be a host name or an IP address')
    .optional(),
  port: z.number().int().min(1, 'must be 1–65535').max(65535, 'must be 1–65535').optional(),
  username: z
    .string()
    .regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'must be a Unix user name')
    .optional(),
});

type ServerFields = z.output<typeof serverFields>;

/** Dokploy's port and username only mean something beside its ipAddress. */
function checkDokployFields(input: ServerFields, ctx: z.RefinementCtx): void {
  if (input.ipAddress !== undefined) return;
  for (const field of ['port', 'username'] as const) {
    if (input[field] === undefined) continue;
    ctx.addIssue({ code: 'custom', path: [field], message: 'is only taken with ipAddress' });
  }
}

/** The given fields as a spec patch, Dokploy's SSH fields turned into a dockerHost. */
function specPatch(input: ServerFields): Partial<ServerSpec> {
  const { ipAddress, port, username, ...patch } = input;
  if (!patch.dockerHost && ipAddress) {
    patch.dockerHost = `ssh://${username ?? 'root'}@${ipAddress}${port ? `:${port}` : ''}`;
  }
  return patch;
}

/**
 * Rules the field schemas cannot state alone: a dockerHost made from Dokploy's ipAddress and
 * port is held to the dockerHost rule, and a pinned host key only means something to ssh://.
 */
function checkSpec(spec: ServerSpec, ctx: z.RefinementCtx): void {
  const address = serverSpecSchema.shape.dockerHost.safeParse(spec.dockerHost);
  if (!address.success) {
    const message = address.error.issues[0]?.message ?? 'is not a valid address';
    ctx.addIssue({
      code: 'custom',
      path: ['dockerHost'],
      message: `${message}; got ${spec.dockerHost}`,
    });
  }
  if (spec.sshHostKey !== null && !spec.dockerHost.startsWith('ssh://')) {
    ctx.addIssue({ code: 'custom', path: ['sshHostKey'], message: 'is only for ssh:// servers' });
  }
}

const serverCreateInput = serverFields
  .extend({ name: serverSpecSchema.shape.name })
  .superRefine(checkDokployFields)
  .transform((input, ctx) => {
    const patch = specPatch(input);
    if (!patch.dockerHost) {
      ctx.addIssue({
        code: 'custom',
        path: ['dockerHost'],
        message: 'is required (or ipAddress, with optional port and username, for ssh)',
      });
      return z.NEVER;
    }
    const spec: ServerSpec = {
      description: null,
      publicHost: null,
      tlsCa: null,
      tlsCert: null,
      tlsKey: null,
      sshPrivateKey: null,
      sshHostKey: null,
      ...patch,
      name: input.name,
      dockerHost: patch.dockerHost,
    };
    checkSpec(spec, ctx);
    return spec;
  });

const serverUpdateInput = serverFields.extend(serverIdInput.shape).superRefine(checkDokployFields);

export const serverProcedures: ProcedureTable = {
  'server.create': procedure('mutation', serverCreateInput, (input, { store }) =>
    publicServer(store.servers.create(input)),
  ),

  /**
   * Changes the given fields. A new address forgets the pinned host key unless one is given,
   * and every change makes the server's client anew.
   */
  'server.update': procedure('mutation', serverUpdateInput, (input, context) => {
    const { serverId, ...fields } = input;
    const { serverId: _id, createdAt: _at, ...current } = context.store.servers.find(serverId);
    const patch = specPatch(fields);
    const moved = patch.dockerHost !== undefined && patch.dockerHost !== current.dockerHost;
    const merged = { ...current, ...(moved && { sshHostKey: null }), ...patch };
    const spec = serverSpecSchema.superRefine(checkSpec).parse(merged);
    const updated = context.store.servers.update(serverId, spec);
    context.onServerChanged(serverId);
    return publicServer(updated);
  }),

  'server.one': procedure('query', serverIdInput, ({ serverId }, { store }) =>
    publicServer(store.servers.find(serverId)),
  ),

  'server.all': procedure('query', noInput, (_input, { store }) =>
    store.servers.list().map(publicServer),
  ),

  'server.remove': procedure('mutation', serverIdInput, ({ serverId }, context) => {
    const removed = context.store.servers.remove(serverId);
    context.onServerChanged(serverId);
    return publicServer(removed);
  }),
};
