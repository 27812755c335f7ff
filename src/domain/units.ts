/**
 * Resource quantities as users write them.
 *
 * Two dialects are accepted: Docker's (`512m`, `1g`, `1.5` cpus) and Dokploy's raw numbers
 * (memory in bytes, cpu in NanoCPUs). Anything else is rejected, so a typo never becomes a
 * silently wrong limit.
 */

const MEMORY_UNITS: Record<string, number> = {
  b: 1,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
};

/** Docker refuses a memory limit below 6 MiB. */
export const MIN_MEMORY_BYTES = 6 * 1024 ** 2;

/** One CPU in Docker's NanoCPUs. */
export const NANO_CPUS_PER_CPU = 1_000_000_000;

/** Largest cpu count written as a plain number; larger integers are read as NanoCPUs. */
const MAX_PLAIN_CPUS = 1024;

/** Smallest raw NanoCPUs value accepted: 0.001 cpu. */
const MIN_NANO_CPUS = 1_000_000;

const MEMORY_PATTERN = /^(\d+(?:\.\d+)?)\s*([bkmgt])?(?:i?b)?$/i;

/** Parses `512m`, `1g`, `1.5g`, `536870912`; returns bytes, or an error sentence. */
export function parseMemory(value: string): number | string {
  const match = MEMORY_PATTERN.exec(value.trim());
  if (!match?.[1]) {
    return 'must be bytes as digits or a number with a unit b, k, m, g or t (for example 512m)';
  }
  const unit = (match[2] ?? 'b').toLowerCase();
  const factor = MEMORY_UNITS[unit] ?? 1;
  const bytes = Math.floor(Number(match[1]) * factor);
  if (!Number.isSafeInteger(bytes)) return 'is too large';
  if (bytes < MIN_MEMORY_BYTES) return 'must be at least 6m (Docker refuses less)';
  return bytes;
}

/** Parses `0.5`, `2` (cpus) or `1500000000` (NanoCPUs); returns NanoCPUs, or an error sentence. */
export function parseCpu(value: string): number | string {
  const text = value.trim();
  if (!/^\d+(?:\.\d+)?$/.test(text)) {
    return 'must be a number of cpus (for example 0.5) or NanoCPUs as digits';
  }
  const number = Number(text);
  if (number <= 0) return 'must be greater than zero';

  if (number <= MAX_PLAIN_CPUS) {
    const nanoCpus = Math.round(number * NANO_CPUS_PER_CPU);
    if (nanoCpus < MIN_NANO_CPUS) return 'must be at least 0.001 cpu';
    return nanoCpus;
  }
  if (text.includes('.') || number < MIN_NANO_CPUS) {
    return (
      `is ambiguous: use at most ${MAX_PLAIN_CPUS} cpus, ` +
      `or NanoCPUs of at least ${MIN_NANO_CPUS}`
    );
  }
  if (!Number.isSafeInteger(number)) return 'is too large';
  return number;
}
