import { describe, expect, it } from 'vitest';
import { quoteConfigValue, renderRedisConfig } from '../../src/runtime/redis-config.js';

describe('quoteConfigValue', () => {
  it('leaves printable characters alone and escapes quote and backslash', () => {
    expect(quoteConfigValue(`a b$;'@`)).toBe(`"a b$;'@"`);
    expect(quoteConfigValue('say "hi" \\ o')).toBe('"say \\x22hi\\x22 \\x5c o"');
  });

  it('escapes line breaks and non-ASCII bytes so no value starts a new directive', () => {
    expect(quoteConfigValue('x\nrequirepass y')).toBe('"x\\x0arequirepass y"');
    expect(quoteConfigValue('é')).toBe('"\\xc3\\xa9"');
  });
});

describe('renderRedisConfig', () => {
  const operator = { user: 'redis-controller', password: 'op-secret' };

  it('gives the operator user a digest, not the password, and only PING and CONFIG SET', () => {
    const text = renderRedisConfig({
      password: 'pw',
      maxmemoryBytes: null,
      persistenceDefaults: true,
      operator,
    });
    expect(text).not.toContain('op-secret');
    expect(text).toMatch(/^user redis-controller on #[0-9a-f]{64} -@all \+ping \+config\|set$/m);
  });

  it('has persistence and the password by default', () => {
    const text = renderRedisConfig({
      password: 'pw',
      maxmemoryBytes: null,
      persistenceDefaults: true,
      operator,
    });
    expect(text).toContain('appendonly yes');
    expect(text).toContain('dir /data');
    expect(text).toContain('requirepass "pw"');
    expect(text).not.toContain('maxmemory');
  });

  it('holds only the password and maxmemory when the user brought their own argv', () => {
    const text = renderRedisConfig({
      password: 'pw',
      maxmemoryBytes: 1000,
      persistenceDefaults: false,
      operator,
    });
    expect(text).not.toContain('appendonly');
    expect(text).toContain('maxmemory 1000');
  });
});
