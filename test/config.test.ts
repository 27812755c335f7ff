import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';

describe('configuration from the environment', () => {
  it('publishes on every interface unless told otherwise', () => {
    expect(loadConfig({}).publishHost).toBe('0.0.0.0');
    expect(loadConfig({ PUBLISH_HOST: '127.0.0.1' }).publishHost).toBe('127.0.0.1');
    expect(loadConfig({ PUBLISH_HOST: '::1' }).publishHost).toBe('::1');
  });

  it.each([' ', 'localhost', '0.0.0.0; rm -rf /', '999.1.1.1'])(
    'refuses PUBLISH_HOST=%j, naming it',
    (value) => {
      expect(() => loadConfig({ PUBLISH_HOST: value })).toThrow(/PUBLISH_HOST must be an IP/);
    },
  );
});
