import { describe, expect, it } from 'vitest';
import {
  appNameSchema,
  descriptionSchema,
  displayNameSchema,
  dockerImageSchema,
  passwordSchema,
} from '../../src/domain/redis.js';

describe('appName', () => {
  it('is normalised like Dokploy: trimmed, lower-case, spaces to dashes', () => {
    expect(appNameSchema.parse('  Prod Redis  ')).toBe('prod-redis');
  });

  it.each(['', 'a_b', '-lead', 'trail-', 'x'.repeat(58), 'a/b', 'a;b', '$(id)'])(
    'refuses %j',
    (value) => {
      expect(appNameSchema.safeParse(value).success).toBe(false);
    },
  );
});

describe('dockerImage', () => {
  it.each([
    'redis',
    'redis:8',
    'redis:7.2-alpine',
    'redis-controller/redis:local',
    'ghcr.io/acme/redis:1.0',
    'Registry.Example.com:5000/acme/redis:1',
    'localhost:5000/redis',
    `redis@sha256:${'a'.repeat(64)}`,
  ])('accepts %s', (value) => {
    expect(dockerImageSchema.safeParse(value).success).toBe(true);
  });

  it.each([
    '',
    'redis; rm -rf /',
    'Redis',
    'redis:8 --privileged',
    '$(id)',
    'a\nb',
    '../x',
    'UPPER/redis:x',
  ])('refuses %j', (value) => {
    expect(dockerImageSchema.safeParse(value).success).toBe(false);
  });
});

describe('databasePassword', () => {
  it('accepts spaces, quotes, dollars, semicolons and at signs', () => {
    expect(passwordSchema.safeParse(`p a$s;s'w"o@rd\``).success).toBe(true);
  });

  it.each(['', 'a\nb', 'a\u0000b', 'x'.repeat(513)])('refuses %j', (value) => {
    expect(passwordSchema.safeParse(value).success).toBe(false);
  });
});

describe('names and descriptions', () => {
  it('takes a description over several lines, with tabs', () => {
    expect(descriptionSchema.safeParse('Production cache\n\tsessions\r\n').success).toBe(true);
  });

  it.each(['a\u0000b', 'bell\u0007', 'esc\u001b[31m', 'csi\u009b31m', 'lone\ud800'])(
    'refuses the description %j',
    (value) => {
      expect(descriptionSchema.safeParse(value).success).toBe(false);
    },
  );

  it.each(['a\nb', 'a\u0000b', 'tab\tbed'])(
    'refuses the name %j, which must be one line',
    (value) => {
      expect(displayNameSchema.safeParse(value).success).toBe(false);
    },
  );
});

describe('passwords and names in other scripts', () => {
  it('accepts any script and emoji, as long as it is well-formed', () => {
    expect(displayNameSchema.safeParse('Кэш für 東京 🚀').success).toBe(true);
    expect(passwordSchema.safeParse('пароль-🔑-密码').success).toBe(true);
    expect(passwordSchema.safeParse('half\udc00').success).toBe(false);
    expect(passwordSchema.safeParse('c1\u0085').success).toBe(false);
  });
});
