import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiClient, startTestApi, type TestApi } from '../support/api.js';

let api: TestApi;
let client: ApiClient;

beforeAll(async () => {
  api = await startTestApi();
  client = api.client;
});

afterAll(async () => {
  await api.close();
});

const createBody = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  name: 'production-redis',
  appName: `app-${Math.random().toString(36).slice(2, 10)}`,
  databasePassword: 'securePassword123!',
  dockerImage: 'redis:8',
  environmentId: api.environmentId,
  description: 'Production Redis cache',
  ...overrides,
});

interface ErrorBody {
  message: string;
  code: string;
  issues?: { path: (string | number)[] }[];
}

describe('authentication', () => {
  it('answers 401 without a token on every route but /healthz', async () => {
    for (const path of ['/api/project.all', '/api/redis.one?redisId=x', '/api/nope']) {
      const response = await client.get(path, {});
      expect(response.status).toBe(401);
      expect((response.body as ErrorBody).message).toBe('Unauthorized');
    }
    const create = await client.post('/api/redis.create', createBody(), {});
    expect(create.status).toBe(401);
    expect((await client.get('/healthz', {})).status).toBe(200);
  });

  it('refuses a wrong token and accepts Bearer and x-api-key alike', async () => {
    expect((await client.get('/api/project.all', { authorization: 'Bearer wrong' })).status).toBe(
      401,
    );
    expect((await client.get('/api/project.all', { 'x-api-key': 'wrong' })).status).toBe(401);
    expect(
      (await client.get('/api/project.all', { 'x-api-key': 'test-token-0123456789abcdef' })).status,
    ).toBe(200);
  });
});

describe('project.all', () => {
  it('lists the default project with its production environment', async () => {
    const response = await client.get('/api/project.all');
    expect(response.status).toBe(200);
    const projects = response.body as { name: string; environments: { name: string }[] }[];
    expect(projects.map((p) => p.name)).toContain('default');
    expect(projects[0]?.environments.map((e) => e.name)).toEqual(['production']);
  });
});

describe('redis.create and redis.one', () => {
  it('creates a record, returns the row and finds it again with its environment', async () => {
    const created = await client.post('/api/redis.create', createBody({ appName: ' My Cache ' }));
    expect(created.status).toBe(200);
    const row = created.body as Record<string, unknown>;
    expect(row.redisId).toEqual(expect.any(String));
    expect(row.appName).toBe('my-cache');
    expect(row.applicationStatus).toBe('idle');
    expect(row.desiredState).toBe('undeployed');

    const one = await client.get(`/api/redis.one?redisId=${row.redisId}`);
    expect(one.status).toBe(200);
    const found = one.body as Record<string, unknown> & {
      environment: { name: string; project: { name: string } };
    };
    expect(found.name).toBe('production-redis');
    expect(found.environment.name).toBe('production');
    expect(found.environment.project.name).toBe('default');
    expect(found.mounts).toEqual([
      expect.objectContaining({ type: 'volume', volumeName: 'my-cache-data', mountPath: '/data' }),
    ]);
  });

  it('answers 404 "Redis not found" for an unknown id', async () => {
    const response = await client.get('/api/redis.one?redisId=doesnotexist');
    expect(response.status).toBe(404);
    expect(response.body).toMatchObject({ message: 'Redis not found', code: 'NOT_FOUND' });
  });

  it('answers 404 "Environment not found" for an unknown environment', async () => {
    const response = await client.post('/api/redis.create', createBody({ environmentId: 'nope' }));
    expect(response.status).toBe(404);
    expect(response.body).toMatchObject({ message: 'Environment not found' });
  });

  it('answers 409 for a duplicate appName and keeps the first record', async () => {
    const body = createBody();
    const first = await client.post('/api/redis.create', body);
    const second = await client.post('/api/redis.create', { ...body, name: 'other' });
    expect(second.status).toBe(409);
    expect((second.body as ErrorBody).message).toContain(String(body.appName));
    const kept = await client.get(
      `/api/redis.one?redisId=${(first.body as { redisId: string }).redisId}`,
    );
    expect((kept.body as { name: string }).name).toBe('production-redis');
  });
});

describe('bad input', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['a missing name', { name: undefined }, 'name'],
    ['an externalPort of 70000', { externalPort: 70000 }, 'externalPort'],
    ['a non-string password', { databasePassword: 12345 }, 'databasePassword'],
    ['an image with a shell command', { dockerImage: 'redis; rm -rf /' }, 'dockerImage'],
    ['an appName with a slash', { appName: '../etc' }, 'appName'],
    ['a password with a newline', { databasePassword: 'a\nrequirepass x' }, 'databasePassword'],
  ];

  for (const [label, overrides, field] of cases) {
    it(`refuses ${label} with 400 naming ${field}`, async () => {
      const before = api.store.redis.list().length;
      const response = await client.post('/api/redis.create', createBody(overrides));
      expect(response.status).toBe(400);
      const body = response.body as ErrorBody;
      expect(body.code).toBe('BAD_REQUEST');
      expect(body.message).toContain(field);
      expect(body.issues?.some((issue) => issue.path.includes(field))).toBe(true);
      expect(api.store.redis.list().length).toBe(before);
    });
  }

  it('names the memory field an update changed when limit and reservation disagree', async () => {
    const created = await client.post(
      '/api/redis.create',
      createBody({ memoryLimit: '512m', memoryReservation: '256m' }),
    );
    const { redisId } = created.body as { redisId: string };
    const cases: [Record<string, unknown>, string][] = [
      [{ memoryLimit: '128m' }, 'memoryLimit'],
      [{ memoryReservation: '1g' }, 'memoryReservation'],
    ];
    for (const [patch, field] of cases) {
      const response = await client.post('/api/redis.update', { redisId, ...patch });
      expect(response.status).toBe(400);
      const body = response.body as ErrorBody;
      expect(body.issues?.map((issue) => issue.path)).toEqual([[field]]);
    }
    expect(api.store.redis.find(redisId)).toMatchObject({
      memoryLimit: '512m',
      memoryReservation: '256m',
    });
  });

  it('refuses an externalPort out of range on saveExternalPort', async () => {
    const created = await client.post('/api/redis.create', createBody());
    const redisId = (created.body as { redisId: string }).redisId;
    const response = await client.post('/api/redis.saveExternalPort', {
      redisId,
      externalPort: 70000,
    });
    expect(response.status).toBe(400);
    expect((response.body as ErrorBody).message).toContain('externalPort');
  });

  it('answers 415 to a POST that is not JSON', async () => {
    const response = await client.raw('/api/redis.create', {
      method: 'POST',
      headers: {
        authorization: 'Bearer test-token-0123456789abcdef',
        'content-type': 'text/plain',
      },
      body: 'name=x',
    });
    expect(response.status).toBe(415);
    expect((response.body as ErrorBody).code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers 400 to malformed JSON', async () => {
    const response = await client.raw('/api/redis.create', {
      method: 'POST',
      headers: {
        authorization: 'Bearer test-token-0123456789abcdef',
        'content-type': 'application/json',
      },
      body: '{"name":',
    });
    expect(response.status).toBe(400);
    expect((response.body as ErrorBody).message).toMatch(/JSON/);
  });
});

describe('desired-state verbs', () => {
  it('deploy, stop, start and remove write desired state and return the row', async () => {
    const created = await client.post('/api/redis.create', createBody());
    const redisId = (created.body as { redisId: string }).redisId;

    const idle = await client.post('/api/redis.stop', { redisId });
    expect(idle.body).toMatchObject({ desiredState: 'undeployed', generation: 1 });

    const deployed = await client.post('/api/redis.deploy', { redisId });
    expect(deployed.body).toMatchObject({
      desiredState: 'running',
      deployRequests: 1,
      applicationStatus: 'running',
      generation: 2,
    });
    const stopped = await client.post('/api/redis.stop', { redisId });
    expect(stopped.body).toMatchObject({ desiredState: 'stopped', generation: 3 });
    const started = await client.post('/api/redis.start', { redisId });
    expect(started.body).toMatchObject({
      desiredState: 'running',
      deployRequests: 1,
      generation: 4,
    });
    const again = await client.post('/api/redis.start', { redisId });
    expect(again.body).toMatchObject({ desiredState: 'running', generation: 4 });

    const port = await client.post('/api/redis.saveExternalPort', { redisId, externalPort: 16999 });
    expect(port.body).toMatchObject({ externalPort: 16999, generation: 5 });

    const removed = await client.post('/api/redis.remove', { redisId });
    expect(removed.status).toBe(200);
    expect(removed.body).toMatchObject({ redisId });
    expect((await client.get(`/api/redis.one?redisId=${redisId}`)).status).toBe(404);
  });

  it('answers 409 naming the holder when another record has the port', async () => {
    const first = await client.post('/api/redis.create', createBody({ externalPort: 17001 }));
    const second = await client.post('/api/redis.create', createBody());
    const redisId = (second.body as { redisId: string }).redisId;
    const response = await client.post('/api/redis.saveExternalPort', {
      redisId,
      externalPort: 17001,
    });
    expect(response.status).toBe(409);
    expect((response.body as ErrorBody).message).toContain(
      (first.body as { appName: string }).appName,
    );
    const again = await client.post('/api/redis.saveExternalPort', {
      redisId: (first.body as { redisId: string }).redisId,
      externalPort: 17001,
    });
    expect(again.status).toBe(200);
  });
});

describe('Dokploy conveniences', () => {
  it('makes an appName from the name when none is given', async () => {
    const { appName: _unused, ...body } = createBody({ name: 'My Cache!' });
    const created = await client.post('/api/redis.create', body);
    expect(created.status).toBe(200);
    expect((created.body as { appName: string }).appName).toMatch(/^redis-my-cache-[a-z0-9]{6}$/);
  });

  it("lists a project's environments with environment.byProjectId", async () => {
    const projects = (await client.get('/api/project.all')).body as { projectId: string }[];
    const projectId = projects[0]?.projectId ?? '';
    const response = await client.get(`/api/environment.byProjectId?projectId=${projectId}`);
    expect(response.status).toBe(200);
    expect((response.body as { name: string }[]).map((e) => e.name)).toContain('production');
  });
});
