/**
 * A Docker server: an engine the controller places databases on, besides the local one.
 */
import { z } from 'zod';
import { descriptionSchema, displayNameSchema } from './redis.js';
import { sshHostKeySchema } from './ssh-host-key.js';

/**
 * `unix:///path`, `tcp://host:port` (TLS when certificates are given) or `ssh://user@host[:port]`.
 * Host names are plain DNS names or IP addresses; nothing here is ever handed to a shell.
 */
const HOST = '[A-Za-z0-9][A-Za-z0-9.-]*';
const PORT = '(?:6553[0-5]|655[0-2]\\d|65[0-4]\\d{2}|6[0-4]\\d{3}|[1-5]\\d{4}|[1-9]\\d{0,3})';
const DOCKER_HOST_PATTERN = new RegExp(
  [
    '^(unix:///[A-Za-z0-9._/-]+',
    `|tcp://${HOST}:${PORT}`,
    `|ssh://[a-z_][a-z0-9_-]{0,31}@${HOST}(:${PORT})?)$`,
  ].join(''),
);

const pemSchema = z
  .string()
  .max(16384, 'must be at most 16384 characters')
  .regex(/^-----BEGIN [A-Z ]+-----[\s\S]+-----END [A-Z ]+-----\s*$/, 'must be a PEM block')
  .nullable();

export const serverSpecSchema = z.object({
  name: displayNameSchema,
  description: descriptionSchema.nullable(),
  dockerHost: z
    .string()
    .max(512, 'must be at most 512 characters')
    .regex(
      DOCKER_HOST_PATTERN,
      'must be unix:///path, tcp://host:port or ssh://user@host[:port] (port 1–65535)',
    ),
  /** The address clients reach published ports on; defaults to the dockerHost's host. */
  publicHost: z
    .string()
    .max(253, 'must be at most 253 characters')
    .regex(/^[A-Za-z0-9.:-]+$/, 'must be a host name or an IP address')
    .nullable(),
  tlsCa: pemSchema,
  tlsCert: pemSchema,
  tlsKey: pemSchema,
  sshPrivateKey: pemSchema,
  /** Null until the first connection, which pins the key it was shown (trust on first use). */
  sshHostKey: sshHostKeySchema,
});

export type ServerSpec = z.infer<typeof serverSpecSchema>;

export interface ServerRecord extends ServerSpec {
  serverId: string;
  createdAt: string;
}

/** The host a server's published ports are reached on. */
export function serverPublicHost(server: ServerRecord): string {
  if (server.publicHost) return server.publicHost;
  const match = /^(?:tcp|ssh):\/\/(?:[^@]+@)?([^:/]+)/.exec(server.dockerHost);
  return match?.[1] ?? '127.0.0.1';
}

/** The server as the API shows it: secrets reduced to whether they are set. */
export function publicServer(server: ServerRecord): Record<string, unknown> {
  const { tlsKey, sshPrivateKey, ...rest } = server;
  return {
    ...rest,
    tlsKey: tlsKey ? '[set]' : null,
    sshPrivateKey: sshPrivateKey ? '[set]' : null,
  };
}
