/**
 * Resident memory of this process, measured after a full garbage collection so that the number
 * is what stays live, not what the collector has not got round to yet.
 */
import v8 from 'node:v8';
import vm from 'node:vm';

/**
 * The collector's `gc()`. `npm run bench` cannot pass --expose-gc to node through tsx, so the
 * flag is set at run time; a fresh context then has `gc` as a global.
 */
function exposeGc(): (() => void) | null {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (existing) return existing;
  v8.setFlagsFromString('--expose-gc');
  const collect: unknown = vm.runInNewContext('typeof gc === "function" ? gc : null');
  return typeof collect === 'function' ? (collect as () => void) : null;
}

const gc = exposeGc();

/** Whether the numbers below come after a real collection. */
export const collectsGarbage = gc !== null;

/** Memory use after two full collections (the second catches what finalizers freed). */
export function settledMemory(): NodeJS.MemoryUsage {
  gc?.();
  gc?.();
  return process.memoryUsage();
}

/** Where the resident memory is: the V8 heap, buffers outside it, and the rest (native). */
export function describeMemory(usage: NodeJS.MemoryUsage): string {
  const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  const native = usage.rss - usage.heapTotal - usage.external;
  return (
    `rss ${mb(usage.rss)}: V8 heap ${mb(usage.heapTotal)} (${mb(usage.heapUsed)} used), ` +
    `external ${mb(usage.external)}, other native ${mb(native)}`
  );
}
