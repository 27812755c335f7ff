/**
 * Malformed requests to every verb, in both wire formats. Each must be refused with a 4xx whose
 * body names the offending field, and must change nothing: no record, no row, no file on the host.
 * Every case is a valid input spoiled in one place, so the spoiled field is the only fault.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, TEST_TOKEN, type TestApi } from '../support/api.js';
import {
  AUTH_HEADERS,
  errorShape,
  JSON_HEADERS,
  methodOf,
  NO_INPUT,
  pathOf,
  payloadFor,
  RawJson,
  readError,
  send,
  WIRES,
  type Wire,
} from '../support/wire.js';

/** The file every shell-injection payload below tries to create; it must never appear. */
const MARKER = path.join(os.tmpdir(), `rc-injection-${randomUUID()}`);

/** In a table of values: leave the field out. */
const ABSENT = Symbol('absent');

const WIRE_NAMES: Record<Wire, string> = { rest: 'REST', trpc: 'tRPC' };

interface Fixture {
  redisId: string;
  appName: string;
  environmentId: string;
  projectId: string;
}

let api: TestApi;
let fx: Fixture;

const fresh = (prefix: string): string => `${prefix}-${randomUUID().slice(0, 8)}`;

const redisOnly = (f: Fixture): Record<string, unknown> => ({ redisId: f.redisId });

/** A valid input of each verb, which each case spoils in exactly one place. */
const VALID: Record<string, (f: Fixture) => Record<string, unknown>> = {
  'redis.create': (f) => ({
    name: 'bad-input',
    appName: fresh('new'),
    databasePassword: 'pw-0123456789',
    environmentId: f.environmentId,
  }),
  'redis.one': redisOnly,
  'redis.all': () => ({}),
  'redis.search': () => ({}),
  'redis.deploy': redisOnly,
  'redis.start': redisOnly,
  'redis.stop': redisOnly,
  'redis.reload': (f) => ({ redisId: f.redisId, appName: f.appName }),
  'redis.rebuild': redisOnly,
  'redis.remove': redisOnly,
  'redis.update': redisOnly,
  'redis.saveEnvironment': (f) => ({ redisId: f.redisId, env: 'A=b' }),
  'redis.saveExternalPort': (f) => ({ redisId: f.redisId, externalPort: 16380 }),
  'redis.changeStatus': (f) => ({ redisId: f.redisId, applicationStatus: 'idle' }),
  'redis.changePassword': (f) => ({ redisId: f.redisId, password: 'pw-9876543210' }),
  'redis.move': (f) => ({ redisId: f.redisId, targetEnvironmentId: f.environmentId }),
  'redis.readLogs': (f) => ({ redisId: f.redisId, tail: '10', since: '5m' }),
  'project.create': () => ({ name: 'bad-input-project' }),
  'project.one': (f) => ({ projectId: f.projectId }),
  'project.remove': (f) => ({ projectId: f.projectId }),
  'environment.create': (f) => ({ name: fresh('env'), projectId: f.projectId }),
  'environment.one': (f) => ({ environmentId: f.environmentId }),
  'environment.remove': (f) => ({ environmentId: f.environmentId }),
};

const ALL_VERBS = Object.keys(VALID);

function validInput(verb: string, f: Fixture): Record<string, unknown> {
  const build = VALID[verb];
  if (!build) throw new Error(`No valid input for ${verb}`);
  return build(f);
}

interface BadCase {
  verb: string;
  /** The field at fault, as zod's issue path starts. */
  field: string;
  label: string;
  status: number;
  /** What the message must name: the field, or for a 404 the resource not found. */
  names: string;
  input: (f: Fixture) => unknown;
}

function label(value: unknown): string {
  if (value === ABSENT) return 'missing';
  if (value === NO_INPUT) return 'no input at all';
  const text = value instanceof RawJson ? value.text : (JSON.stringify(value) ?? String(value));
  const shown = text.replaceAll(MARKER, '<marker>');
  return shown.length > 48 ? `${shown.slice(0, 24)}… (${shown.length} characters)` : shown;
}

/** One case per verb and value: that verb's valid input with `field` set to the value. */
function spoil(
  verbs: readonly string[],
  field: string,
  values: readonly unknown[],
  status = 400,
  names = field,
): BadCase[] {
  return verbs.flatMap((verb) =>
    values.map((value) => ({
      verb,
      field,
      status,
      names,
      label: label(value),
      input: (f: Fixture) => {
        const { [field]: _dropped, ...rest } = validInput(verb, f);
        return value === ABSENT ? rest : { ...rest, [field]: value };
      },
    })),
  );
}

/** One case per verb and value: the value in place of the whole input. */
function replaceWhole(verbs: readonly string[], values: readonly unknown[], field = 'input') {
  return verbs.flatMap((verb) =>
    values.map(
      (value): BadCase => ({
        verb,
        field,
        status: 400,
        names: field,
        label: label(value),
        input: () => value,
      }),
    ),
  );
}

const PLACEHOLDER: Fixture = { redisId: 'r', appName: 'a', environmentId: 'e', projectId: 'p' };
const REDIS_ID_VERBS = ALL_VERBS.filter((verb) => 'redisId' in validInput(verb, PLACEHOLDER));
const QUERY_VERBS = ALL_VERBS.filter((verb) => methodOf(verb) === 'GET');
const SPEC_VERBS = ['redis.create', 'redis.update'];
const NAMED_VERBS = [...SPEC_VERBS, 'project.create', 'environment.create'];

const TOUCH = `touch ${MARKER}`;

// One list per rule of src/domain/redis.ts and src/api/inputs.ts, each value breaking it once.
/** Ids: non-empty text of at most 128 characters. */
const IDS = [ABSENT, 42, { id: 'x' }, ['x'], true, null, '', '   ', 'i'.repeat(129)];
const UNKNOWN_IDS = ['no-such-id', "x' OR '1'='1"];
const NAMES = ['', '   ', 'n'.repeat(101), 'n'.repeat(200_000), 42, null, {}, 'a\u0000b', 'a\nb'];
/** Several lines are fine in a description; other control characters are not. */
const DESCRIPTIONS = ['d'.repeat(2001), 42, ['x'], {}, 'a\u0000b', 'bell\u0007'];
/** A DNS label of at most 57 characters, after trimming and lower-casing. */
const APP_NAMES = ['../x', 'a;b', '$(id)', `$(${TOUCH})`, 'Up/Case', 'a'.repeat(300), '', '-x', 42];
/** A Docker image reference and nothing else. */
const IMAGES = [`redis; ${TOUCH}`, `$(${TOUCH})`, 'redis:8 --privileged', `redis:8\n${TOUCH}`];
const MORE_IMAGES = ['', 'r'.repeat(256), 'Redis:8', 42, null];
/** A Redis-compatible server executable first, no control characters, run without a shell. */
const COMMANDS = [`sh -c '${TOUCH}'`, '/bin/bash', 'redis-server; rm', `redis-server\n${TOUCH}`];
const MORE_COMMANDS = ['redis-server\u0000', `redis-server ${'x'.repeat(4096)}`, 42, ['x']];
/** Options that would override the password the controller applies. */
const AUTH_COMMANDS = ['redis-server --user default on nopass', 'valkey-server --ACLFILE /x'];
const AUTH_ARGS = [
  ['--user', 'default', 'on', 'nopass', '~*', '+@all'],
  '--protected-mode no --USER default on nopass',
  ['--requirepass', ''],
  '["--include", "/etc/redis/other.conf"]',
];
/** At most 256 strings of at most 4096 characters, no control characters. */
const ARGS = [{ 0: '--port' }, [1, 2], ['--save', 'a\nb'], ['x\u0000'], ['x'.repeat(4097)]];
const MORE_ARGS = [Array.from({ length: 257 }, () => '--x'), 42, true, '[1,', '["--x", 5]'];
/** Each line blank, a # comment, or KEY=VALUE with KEY of letters, digits and _. */
const ENVS = ['FOO', '1X=y', `A=b\n${TOUCH}`, '=x', 'A B=c', 'A=b\u0000c', 'e'.repeat(65537)];
const MORE_ENVS = [42, ['A=b'], { A: 'b' }];
/** 1 to 512 printable characters. */
const PASSWORDS = ['a\nrequirepass x', 'a\u0000b', '', 'p'.repeat(513), 'p'.repeat(600), 12345];
const MEMORY = ['lots', '-1g', '5000', '0', '1e9', '9'.repeat(33), 512];
const CPUS = ['lots', '-1g', '5000', '0', '1e9', '1024.5', 0.5];
const PORTS = [0, 1023, 65536, 70000, 1.5, -1, '6380', 'NaN', new RawJson('1e400'), true, {}, []];
const STATUSES = ['bogus', 'RUNNING', '', 1, null];
const TAILS = [0, 10001, '0', '10001', 1.5, '1.5', 'abc', -1, '99999999999999999999', true];
const SINCES = ['5x', 'all;ls', '15', '5m; id', '', 5, '9999999999s'];
const SEARCHES = [`$(${TOUCH})`, 'a;b', 'a|b', '`id`', 'a\nb', 's'.repeat(501), 42];
const LIMITS = [0, 101, '0', '101', 1.5, 'ten', -5, null, ''];
const FILTERS = ['name', 'appName', 'description', 'projectId', 'environmentId'];

/** A redisId reachable only through the prototype chain is no redisId. */
function prototypeCases(verb: string): BadCase[] {
  return ['__proto__', 'constructor'].map((key) => ({
    verb,
    field: 'redisId',
    status: 400,
    names: 'redisId',
    label: `only under ${key}`,
    input: (f: Fixture) => {
      const inner = JSON.stringify({ redisId: f.redisId });
      const nested = key === '__proto__' ? inner : `{"prototype":${inner}}`;
      return new RawJson(`{"${key}":${nested}}`);
    },
  }));
}

const CREATES = ['redis.create', 'project.create', 'environment.create'];

const REFUSED: BadCase[] = [
  ...spoil(REDIS_ID_VERBS, 'redisId', IDS),
  ...spoil(['project.one', 'project.remove'], 'projectId', IDS),
  ...spoil(['environment.one', 'environment.remove'], 'environmentId', IDS),
  ...spoil(['redis.move'], 'targetEnvironmentId', IDS),
  ...spoil(['environment.create'], 'projectId', [ABSENT, 42, '']),
  ...spoil(SPEC_VERBS, 'environmentId', [42, '', null, ['e']]),
  ...spoil(['redis.create'], 'environmentId', [ABSENT]),
  ...spoil(NAMED_VERBS, 'name', NAMES),
  ...spoil(CREATES, 'name', [ABSENT]),
  ...spoil(NAMED_VERBS, 'description', DESCRIPTIONS),
  ...spoil(SPEC_VERBS, 'appName', [...APP_NAMES, 'a_b', null]),
  // redis.create makes an appName when none is given, as Dokploy does.
  ...spoil(['redis.reload'], 'appName', [ABSENT]),
  ...spoil(['redis.reload'], 'appName', ['../x', `$(${TOUCH})`, 'a'.repeat(300), 42, null]),
  ...spoil(SPEC_VERBS, 'dockerImage', [...IMAGES, ...MORE_IMAGES]),
  ...spoil(SPEC_VERBS, 'command', [...COMMANDS, ...MORE_COMMANDS, ...AUTH_COMMANDS]),
  ...spoil(SPEC_VERBS, 'args', [...ARGS, ...MORE_ARGS, ...AUTH_ARGS]),
  ...spoil([...SPEC_VERBS, 'redis.saveEnvironment'], 'env', [...ENVS, ...MORE_ENVS]),
  ...spoil(['redis.saveEnvironment'], 'env', [ABSENT]),
  ...spoil(SPEC_VERBS, 'databasePassword', [...PASSWORDS, null, ['x']]),
  ...spoil(['redis.create'], 'databasePassword', [ABSENT]),
  ...spoil(['redis.changePassword'], 'password', [...PASSWORDS, ABSENT, null, ['x']]),
  ...spoil(SPEC_VERBS, 'memoryLimit', MEMORY),
  ...spoil(SPEC_VERBS, 'memoryReservation', MEMORY),
  ...spoil(SPEC_VERBS, 'cpuLimit', CPUS),
  ...spoil(SPEC_VERBS, 'cpuReservation', CPUS),
  // More cpu shares than Docker allows, as cpus and as NanoCPUs.
  ...spoil(SPEC_VERBS, 'cpuReservation', ['257', '300000000000']),
  // A CPU quota under 1 ms per 100 ms period, which the kernel refuses.
  ...spoil(SPEC_VERBS, 'cpuLimit', ['0.001', '0.009', '5000000']),
  ...spoil([...SPEC_VERBS, 'redis.saveExternalPort'], 'externalPort', PORTS),
  ...spoil(['redis.saveExternalPort'], 'externalPort', [ABSENT]),
  ...spoil(SPEC_VERBS, 'serverId', [42, '', ['s']]),
  ...spoil(['redis.changeStatus', 'redis.update'], 'applicationStatus', STATUSES),
  ...spoil(['redis.changeStatus'], 'applicationStatus', [ABSENT]),
  ...spoil(['redis.readLogs'], 'tail', TAILS),
  ...spoil(['redis.readLogs'], 'since', SINCES),
  ...spoil(['redis.readLogs'], 'search', SEARCHES),
  ...spoil(['redis.search'], 'limit', LIMITS),
  ...spoil(['redis.search'], 'offset', [-1, '-1', 0.5, 'x']),
  ...spoil(['redis.search'], 'q', ['q'.repeat(201), 42, ['a', 'b']]),
  ...FILTERS.flatMap((field) => spoil(['redis.search'], field, ['f'.repeat(201), 42])),
  ...replaceWhole(ALL_VERBS, [[], 'text', 7, null]),
  ...replaceWhole(QUERY_VERBS, [new RawJson('{not json')]),
  ...replaceWhole(REDIS_ID_VERBS, [NO_INPUT], 'redisId'),
  ...replaceWhole(CREATES, [NO_INPUT], 'name'),
  ...replaceWhole(['project.one', 'project.remove'], [NO_INPUT], 'projectId'),
  ...replaceWhole(['environment.one', 'environment.remove'], [NO_INPUT], 'environmentId'),
  ...prototypeCases('redis.remove'),
  ...prototypeCases('redis.deploy'),
];

/** Well-formed ids of nothing: 404, and the message names the resource, as Dokploy's do. */
const NOT_FOUND: BadCase[] = [
  ...spoil(REDIS_ID_VERBS, 'redisId', UNKNOWN_IDS, 404, 'Redis'),
  ...spoil(['project.one', 'project.remove'], 'projectId', UNKNOWN_IDS, 404, 'Project'),
  ...spoil(['environment.create'], 'projectId', UNKNOWN_IDS, 404, 'Project'),
  ...spoil(
    ['environment.one', 'environment.remove'],
    'environmentId',
    UNKNOWN_IDS,
    404,
    'Environment',
  ),
  ...spoil(SPEC_VERBS, 'environmentId', ['no-such-environment'], 404, 'Environment'),
  ...spoil(['redis.move'], 'targetEnvironmentId', UNKNOWN_IDS, 404, 'Environment'),
  ...spoil(SPEC_VERBS, 'serverId', ['srv-unknown'], 404, 'Server'),
];

/** Whether a message names `word` as a whole word; the "Invalid input:" prefix does not count. */
function namesWord(message: string, word: string): boolean {
  const text = message.replace(/^Invalid input: /, '');
  return new RegExp(`(^|[^A-Za-z0-9_])${word}([^A-Za-z0-9_]|$)`).test(text);
}

function issueIsAbout(issuePath: readonly PropertyKey[], field: string): boolean {
  const text = issuePath.length > 0 ? issuePath.map(String).join('.') : 'input';
  return text === field || text.startsWith(`${field}.`);
}

/** Everything a refused request must leave as it was, the target record's row included. */
function snapshot(): unknown {
  return {
    ids: api.store.redis.listIds(),
    redis: api.store.redis.list(),
    target: api.store.redis.findIncludingDeleted(fx.redisId),
    projects: api.store.projects.listProjects(),
    markerExists: fs.existsSync(MARKER),
  };
}

function expectUnchanged(before: unknown): void {
  expect.soft(snapshot(), 'the store and the host are unchanged').toEqual(before);
  expect.soft(fs.existsSync(MARKER), `${MARKER} was created`).toBe(false);
}

/** Sends one request, then checks status, error shape and that nothing changed. */
async function expectRefusal(
  wire: Wire,
  request: () => Promise<{ status: number; body: unknown }>,
  status: number | number[],
): Promise<{ status: number; message: string; issues: { path: PropertyKey[] }[] | undefined }> {
  const before = snapshot();
  const response = await request();
  const allowed = Array.isArray(status) ? status : [status];
  const shown = JSON.stringify(response.body)?.slice(0, 500);

  expect.soft(allowed, `status ${response.status}, body ${shown}`).toContain(response.status);
  expect
    .soft(response.body, `a ${WIRE_NAMES[wire]} error body`)
    .toMatchObject(errorShape(wire, response.status));
  expectUnchanged(before);
  const error = readError(wire, response.body);
  return { status: response.status, ...error };
}

beforeAll(async () => {
  api = await startTestApi();
  const appName = fresh('target');
  const created = await api.client.post('/api/redis.create', {
    name: 'bad-input-target',
    appName,
    databasePassword: 'pw-0123456789',
    environmentId: api.environmentId,
  });
  expect(created.status).toBe(200);
  const redisId = (created.body as { redisId: string }).redisId;
  const { projectId } = api.store.projects.findEnvironment(api.environmentId);
  fx = { redisId, appName, environmentId: api.environmentId, projectId };
});

afterAll(async () => {
  const leaked = fs.existsSync(MARKER);
  fs.rmSync(MARKER, { force: true });
  await api.close();
  expect(leaked, `${MARKER} was created by an injection payload`).toBe(false);
});

describe.each(WIRES)('malformed input over %s', (wire) => {
  for (const c of [...REFUSED, ...NOT_FOUND]) {
    const how = `${WIRE_NAMES[wire]} ${methodOf(c.verb)}`;
    it(`${c.verb} (${how}) refuses ${c.field} ${c.label} with ${c.status} naming ${c.names}`, async () => {
      const error = await expectRefusal(
        wire,
        () => send(api.client, wire, c.verb, c.input(fx)),
        c.status,
      );
      expect
        .soft(namesWord(error.message, c.names), `"${error.message}" names ${c.names}`)
        .toBe(true);
      if (error.issues) {
        const about = error.issues.some((issue) => issueIsAbout(issue.path, c.field));
        expect.soft(about, `an issue's path is ${c.field}`).toBe(true);
      }
    });
  }
});

function postRaw(wire: Wire, verb: string, body: string | Uint8Array, headers = JSON_HEADERS) {
  return api.client.raw(pathOf(wire, verb), { method: 'POST', headers, body });
}

/** The framing verbs get a valid input, so that only the framing is at fault. */
const FRAMED_VERBS = ['redis.create', 'redis.remove', 'project.create', 'environment.remove'];
const MEDIA_TYPES: [string, string | null][] = [
  ['text/plain', 'text/plain'],
  ['no Content-Type', null],
  ['a form encoding', 'application/x-www-form-urlencoded'],
  ['JSON in latin1', 'application/json; charset=latin1'],
];
const MALFORMED_JSON = ['{"redisId":', "{'redisId':'x'}", '{"a":1}}', '{"externalPort":NaN}'];

describe.each(WIRES)('requests the API cannot read, over %s', (wire) => {
  for (const verb of FRAMED_VERBS) {
    for (const [what, type] of MEDIA_TYPES) {
      it(`${verb} answers 415 to a body sent as ${what}`, async () => {
        const headers = { ...AUTH_HEADERS, ...(type && { 'content-type': type }) };
        const bytes = new TextEncoder().encode(payloadFor(wire, validInput(verb, fx)));
        await expectRefusal(wire, () => postRaw(wire, verb, bytes, headers), 415);
      });
    }
    for (const text of MALFORMED_JSON) {
      it(`${verb} answers 400 naming JSON to the malformed body ${text}`, async () => {
        const error = await expectRefusal(wire, () => postRaw(wire, verb, text), 400);
        expect.soft(error.message).toMatch(/JSON/);
      });
    }
  }

  it('answers 400, not 500, to a gzip body that is not gzip', async () => {
    const headers = { ...JSON_HEADERS, 'content-encoding': 'gzip' };
    await expectRefusal(wire, () => postRaw(wire, 'redis.remove', 'plain text', headers), 400);
  });

  it('answers 415 to a body in a content encoding it does not know', async () => {
    const headers = { ...JSON_HEADERS, 'content-encoding': 'x-unknown' };
    const body = payloadFor(wire, validInput('redis.remove', fx));
    await expectRefusal(wire, () => postRaw(wire, 'redis.remove', body, headers), 415);
  });

  it('reads or refuses, but never ignores, a body whose media type is a +json', async () => {
    const headers = { ...AUTH_HEADERS, 'content-type': 'application/merge-patch+json' };
    const body = payloadFor(wire, { redisId: fx.redisId, password: 42 });
    const request = () => postRaw(wire, 'redis.changePassword', body, headers);
    const error = await expectRefusal(wire, request, [400, 415]);
    // Read, the body's only fault is the password's type; ignored, redisId would seem missing.
    if (error.status === 400) expect.soft(error.message).toMatch(/^Invalid input: password: must/);
  });

  const oversized: [string, Record<string, unknown>][] = [
    ['300 KB of padding', { pad: 'x'.repeat(300_000) }],
    ['a 1 MB name', { name: 'n'.repeat(1 << 20) }],
  ];
  for (const [what, extra] of oversized) {
    it(`answers 413 with a JSON body to a body over the limit: ${what}`, async () => {
      const body = payloadFor(wire, { ...validInput('redis.create', fx), ...extra });
      const error = await expectRefusal(wire, () => postRaw(wire, 'redis.create', body), [413]);
      expect.soft(error.message).toMatch(/large/i);
    });
  }

  it('answers a 4xx to a query string over the HTTP server header limit', async () => {
    const response = await send(api.client, wire, 'redis.one', { redisId: 'i'.repeat(20_000) });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
  });

  it('answers 404 or 405 to a GET of a mutation', async () => {
    const url = `${pathOf(wire, 'redis.remove')}?redisId=${fx.redisId}`;
    await expectRefusal(wire, () => api.client.raw(url, { headers: AUTH_HEADERS }), [404, 405]);
  });

  for (const verb of ['redis.one', 'redis.destroyAll']) {
    it(`answers 404 or 405 to a POST to ${verb}`, async () => {
      const body = payloadFor(wire, { redisId: fx.redisId });
      await expectRefusal(wire, () => postRaw(wire, verb, body), [404, 405]);
    });
  }
});

const TOKENS: [string, Record<string, string>][] = [
  ['no token', {}],
  ['a wrong Bearer token', { authorization: 'Bearer wrong-token' }],
  ['a wrong x-api-key', { 'x-api-key': 'wrong-token' }],
  ['a 513-character token', { authorization: `Bearer ${TEST_TOKEN.padEnd(513, 'x')}` }],
];
const GUARDED_VERBS = ['redis.one', 'redis.remove', 'redis.changePassword', 'redis.readLogs'];

describe.each(WIRES)('requests without a valid token, over %s', (wire) => {
  for (const verb of [...GUARDED_VERBS, 'project.create', 'environment.one']) {
    for (const [what, headers] of TOKENS) {
      it(`${verb} answers 401 to ${what} and changes nothing`, async () => {
        const input = validInput(verb, fx);
        const error = await expectRefusal(
          wire,
          () => send(api.client, wire, verb, input, headers),
          401,
        );
        expect.soft(error.message).toMatch(/unauthorized/i);
      });
    }
  }
});

describe('the table', () => {
  it('holds at least 120 malformed requests and reaches every verb', () => {
    const cases = [...REFUSED, ...NOT_FOUND];
    expect(cases.length * WIRES.length).toBeGreaterThanOrEqual(120);
    expect(new Set(cases.map((c) => c.verb))).toEqual(new Set(ALL_VERBS));
  });
});
