/**
 * The Redis database resource: one zod schema for the user's spec, from which the API inputs,
 * and later the manifest and CRD schemas, are derived. Field names follow Dokploy's API.
 */
import { z } from 'zod';
import { NANO_CPUS_PER_CPU, parseCpu, parseMemory } from './units.js';

export const DEFAULT_REDIS_IMAGE = 'redis:8';

export const applicationStatuses = ['idle', 'running', 'done', 'error'] as const;
export type ApplicationStatus = (typeof applicationStatuses)[number];

export const desiredStates = ['undeployed', 'running', 'stopped'] as const;
export type DesiredState = (typeof desiredStates)[number];

/** Dokploy's normalisation: trimmed, lower-case, runs of spaces become `-`. */
export function normalizeAppName(value: string): string {
  return value.trim().toLowerCase().replace(/\s+/g, '-');
}

/**
 * A DNS label, so that the same name is a valid Docker container and volume name and a valid
 * Kubernetes object name. 57 characters leaves room for the `-data` volume suffix within 63.
 */
const APP_NAME_PATTERN = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const APP_NAME_MAX = 57;

export const appNameSchema = z
  .string()
  .refine((value) => !/[^\x20-\x7e]/.test(value), 'must contain only printable ASCII characters')
  .transform(normalizeAppName)
  .pipe(
    z
      .string()
      .min(1, 'must not be empty')
      .max(APP_NAME_MAX, `must be at most ${APP_NAME_MAX} characters`)
      .regex(
        APP_NAME_PATTERN,
        'must contain only a-z, 0-9 and -, and start and end with a letter or digit',
      ),
  );

/**
 * A Docker image reference: optional registry host, path components, tag and digest. Checked
 * strictly so that nothing but a reference ever reaches the engine.
 */
const IMAGE_PATTERN = new RegExp(
  [
    '^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*',
    '(?::[0-9]{1,5})?/)?',
    '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*',
    '(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?',
    '(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$',
  ].join(''),
);

export const dockerImageSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(255, 'must be at most 255 characters')
  .regex(IMAGE_PATTERN, 'must be a Docker image reference such as redis:8 or registry/name:tag')
  .refine(
    (value) => !value.includes('/') || lowerCaseUnlessRegistry(value.split('/')[0] ?? ''),
    'must have a lower-case repository name (only a registry host, with a dot or a port, or ' +
      'localhost, may have capitals)',
  );

/** The engine reads a first component as a registry host only with a dot, a port, or localhost. */
function lowerCaseUnlessRegistry(first: string): boolean {
  const registry = first.includes('.') || first.includes(':') || first === 'localhost';
  return registry || first === first.toLowerCase();
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to refuse them
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to refuse them
const CONTROL_CHARACTERS_BUT_LINES = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
/** Half of a UTF-16 surrogate pair without the other: not text, and not storable as such. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Text whose every character is a character: no lone surrogates. */
const wellFormed = (value: string): boolean => !LONE_SURROGATE.test(value);

/** The name of a database, project, environment or server: one line of text. */
export const displayNameSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(100, 'must be at most 100 characters')
  .refine((value) => !CONTROL_CHARACTERS.test(value), 'must not contain control characters')
  .refine(wellFormed, 'must be well-formed Unicode text');

/** Free text, which may run over several lines. */
export const descriptionSchema = z
  .string()
  .max(2000, 'must be at most 2000 characters')
  .refine(
    (value) => !CONTROL_CHARACTERS_BUT_LINES.test(value),
    'must not contain control characters other than tabs and line breaks',
  )
  .refine(wellFormed, 'must be well-formed Unicode text');

/** Any printable text: it reaches Redis only through an escaped config file, never a shell. */
export const passwordSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(512, 'must be at most 512 characters')
  .refine((value) => !CONTROL_CHARACTERS.test(value), 'must not contain control characters')
  .refine(wellFormed, 'must be well-formed Unicode text');

export const externalPortSchema = z
  .number()
  .int('must be an integer')
  .min(1024, 'must be between 1024 and 65535')
  .max(65535, 'must be between 1024 and 65535')
  .nullable();

const memorySchema = z
  .string()
  .max(32, 'must be at most 32 characters')
  .superRefine((value, ctx) => {
    const parsed = parseMemory(value);
    if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed });
  })
  .nullable();

/** Docker refuses more than 262144 cpu shares: the weight of 256 cpus at 1024 per cpu. */
const MAX_RESERVED_CPUS = 256;

/** The kernel refuses a CPU quota under 1 ms per 100 ms period. */
const MIN_LIMIT_CPUS = 0.01;

const cpuSchema = (bounds: { min?: number; max?: number }) =>
  z
    .string()
    .max(32, 'must be at most 32 characters')
    .superRefine((value, ctx) => {
      const parsed = parseCpu(value);
      if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed });
      else if (bounds.max !== undefined && parsed > bounds.max * NANO_CPUS_PER_CPU) {
        ctx.addIssue({ code: 'custom', message: `must be at most ${bounds.max} cpus` });
      } else if (bounds.min !== undefined && parsed < bounds.min * NANO_CPUS_PER_CPU) {
        ctx.addIssue({ code: 'custom', message: `must be at least ${bounds.min} cpu` });
      }
    })
    .nullable();

const ENV_KEY_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `KEY=VALUE` lines; blank lines and `#` comments are allowed and ignored. */
export const envSchema = z
  .string()
  .max(65536, 'must be at most 65536 characters')
  .superRefine((value, ctx) => {
    for (const [index, line] of value.split('\n').entries()) {
      const trimmed = line.trim();
      // Tabs are fine in a value; other control characters cannot reach a process environment.
      // biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to refuse them
      if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(trimmed)) {
        ctx.addIssue({ code: 'custom', message: `line ${index + 1} contains a control character` });
        return;
      }
      if (trimmed === '' || trimmed.startsWith('#')) continue;
      const key = trimmed.split('=', 1)[0] ?? '';
      if (!trimmed.includes('=') || !ENV_KEY_PATTERN.test(key)) {
        ctx.addIssue({
          code: 'custom',
          message: `line ${index + 1} must be KEY=VALUE with KEY made of letters, digits and _`,
        });
        return;
      }
    }
  })
  .nullable();

/**
 * The server executable, optionally followed by arguments, split on white space. It is run
 * directly, never through a shell, and must be a Redis-compatible server, because the controller
 * appends `--include <its config file>` to apply the password.
 */
const SERVER_EXECUTABLE = /^(?:[A-Za-z0-9_.+-]*\/)*(?:redis|valkey|keydb)(?:-stack)?-server$/;

/**
 * Server options that would replace or undo the password the controller applies: ACL users and
 * files are loaded after `requirepass` and win over it, and an included file may hold either.
 */
const AUTH_OPTIONS = ['--user', '--aclfile', '--requirepass', '--include'];
const AUTH_OPTIONS_RULE =
  `must not use ${AUTH_OPTIONS.join(', ')}: the controller applies the password, and these ` +
  'would override it';

/** Whether argv words set one of AUTH_OPTIONS (option names are case-insensitive). */
function setsAuthOption(words: readonly string[]): boolean {
  return words.some((word) => AUTH_OPTIONS.includes(word.toLowerCase()));
}

export const commandSchema = z
  .string()
  .trim()
  .max(4096, 'must be at most 4096 characters')
  .refine((value) => !CONTROL_CHARACTERS.test(value.replace(/[ \t]/g, '')), {
    message: 'must not contain control characters',
  })
  .refine((value) => SERVER_EXECUTABLE.test(value.split(/\s+/)[0] ?? ''), {
    message:
      'must start with redis-server (or valkey-server, keydb-server, redis-stack-server): ' +
      'it runs without a shell, and the password is applied through its --include option',
  })
  .refine((value) => !setsAuthOption(value.split(/\s+/).slice(1)), {
    message: AUTH_OPTIONS_RULE,
  })
  .nullable();

/** Splits a command into argv words; no quoting rules, since no shell is involved. */
export function commandWords(command: string): string[] {
  return command.trim().split(/\s+/).filter(Boolean);
}

/** Args as a JSON array, or as one string (what Dokploy's CLI sends), split on white space. */
export const argsSchema = z
  .preprocess(
    (value) => {
      if (typeof value !== 'string') return value;
      const text = value.trim();
      if (text.startsWith('[')) {
        try {
          return JSON.parse(text) as unknown;
        } catch {
          return value;
        }
      }
      return text === '' ? [] : text.split(/\s+/);
    },
    z
      .array(
        z
          .string()
          .max(4096, 'must be at most 4096 characters')
          .refine((arg) => !CONTROL_CHARACTERS.test(arg), 'must not contain control characters'),
      )
      .max(256, 'must have at most 256 items')
      .refine((args) => !setsAuthOption(args), { message: AUTH_OPTIONS_RULE }),
  )
  .nullable();

/** The user's side of a Redis record: everything a client may set. */
export const redisSpecSchema = z.object({
  name: displayNameSchema,
  appName: appNameSchema,
  description: descriptionSchema.nullable(),
  databasePassword: passwordSchema,
  dockerImage: dockerImageSchema,
  command: commandSchema,
  args: argsSchema,
  env: envSchema,
  memoryReservation: memorySchema,
  memoryLimit: memorySchema,
  cpuReservation: cpuSchema({ max: MAX_RESERVED_CPUS }),
  cpuLimit: cpuSchema({ min: MIN_LIMIT_CPUS }),
  externalPort: externalPortSchema,
  environmentId: z.string().min(1, 'must not be empty').max(128, 'must be at most 128 characters'),
  serverId: z
    .string()
    .min(1, 'must not be empty')
    .max(128, 'must be at most 128 characters')
    .nullable(),
});

export type RedisSpec = z.infer<typeof redisSpecSchema>;

/** Values of the spec fields a client may leave out. */
export const OPTIONAL_SPEC_DEFAULTS: Omit<
  RedisSpec,
  'name' | 'appName' | 'databasePassword' | 'environmentId' | 'dockerImage'
> = {
  description: null,
  command: null,
  args: null,
  env: null,
  memoryReservation: null,
  memoryLimit: null,
  cpuReservation: null,
  cpuLimit: null,
  externalPort: null,
  serverId: null,
};

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
  lastTransitionTime: string;
}

export interface Endpoint {
  host: string;
  port: number;
  /** Holds the password; filled in when the record is read, never stored. */
  url: string;
}

/** A connection URL for the default user, the password percent-encoded. */
export function redisUrl(host: string, port: number, password: string): string {
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return `redis://default:${encodeURIComponent(password)}@${hostPart}:${port}`;
}

/** What the controller observed and did; written only by the reconciler. */
export interface RedisStatus {
  phase: 'Pending' | 'Deploying' | 'Running' | 'Stopped' | 'Failed' | 'Deleting';
  observedGeneration: number;
  conditions: Condition[];
  containerId: string | null;
  /** When the observed container last started; a change means it restarted behind our back. */
  containerStartedAt: string | null;
  endpoint: Endpoint | null;
  lastError: string | null;
  restartCount: number;
  lastReconciledAt: string | null;
  /** Request counters already carried out, so each deploy, reload or rebuild runs once. */
  appliedDeployRequests: number;
  appliedRestartRequests: number;
  appliedRebuildRequests: number;
  /** Keyed fingerprint of the password the container was last given. */
  appliedPasswordFingerprint: string | null;
  /**
   * Set after an error that retrying cannot fix (a bad image name, a taken port): the spec and
   * requests it happened with. Nothing is retried until one of them changes.
   */
  stalledAt: StallPoint | null;
}

export interface StallPoint {
  generation: number;
  deployRequests: number;
  restartRequests: number;
  rebuildRequests: number;
  desiredState: DesiredState;
}

/** Where a record stands, in the terms a stall is recorded in. */
export function stallPointOf(record: RedisRecord): StallPoint {
  return {
    generation: record.generation,
    deployRequests: record.deployRequests,
    restartRequests: record.restartRequests,
    rebuildRequests: record.rebuildRequests,
    desiredState: record.desiredState,
  };
}

export function initialStatus(): RedisStatus {
  return {
    phase: 'Pending',
    observedGeneration: 0,
    conditions: [],
    containerId: null,
    containerStartedAt: null,
    endpoint: null,
    lastError: null,
    restartCount: 0,
    lastReconciledAt: null,
    appliedDeployRequests: 0,
    appliedRestartRequests: 0,
    appliedRebuildRequests: 0,
    appliedPasswordFingerprint: null,
    stalledAt: null,
  };
}

/** A stored record: the spec, the controller's bookkeeping and the last status. */
export interface RedisRecord extends RedisSpec {
  redisId: string;
  applicationStatus: ApplicationStatus;
  createdAt: string;
  generation: number;
  desiredState: DesiredState;
  deployRequests: number;
  restartRequests: number;
  rebuildRequests: number;
  deletionRequestedAt: string | null;
  source: string;
  status: RedisStatus;
}
