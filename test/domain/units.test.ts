import { describe, expect, it } from 'vitest';
import { parseCpu, parseMemory } from '../../src/domain/units.js';

describe('parseMemory', () => {
  it.each([
    ['512m', 512 * 1024 ** 2],
    ['1g', 1024 ** 3],
    ['1.5g', 1.5 * 1024 ** 3],
    ['64M', 64 * 1024 ** 2],
    ['256MiB', 256 * 1024 ** 2],
    ['536870912', 536870912],
  ])('reads %s as %d bytes', (text, bytes) => {
    expect(parseMemory(text)).toBe(bytes);
  });

  it.each(['', 'lots', '5x', '-1g', '1e9', '4m'])('refuses %j with a sentence', (text) => {
    expect(typeof parseMemory(text)).toBe('string');
  });
});

describe('parseCpu', () => {
  it.each([
    ['0.5', 500_000_000],
    ['1.5', 1_500_000_000],
    ['2', 2_000_000_000],
    ['1500000000', 1_500_000_000],
  ])('reads %s as %d NanoCPUs', (text, nanoCpus) => {
    expect(parseCpu(text)).toBe(nanoCpus);
  });

  it.each(['', 'half', '0', '5000', '2000.5', '0.0000001', '-1'])('refuses %j', (text) => {
    expect(typeof parseCpu(text)).toBe('string');
  });
});
