/**
 * Reading dockerode's errors: the engine's HTTP status and its one-line reason.
 */

interface EngineError {
  statusCode?: number;
  json?: { message?: string } | null;
  reason?: string;
  message?: string;
}

/** The HTTP status the engine answered with, or null for a transport failure. */
export function statusOf(error: unknown): number | null {
  const status = (error as EngineError | null)?.statusCode;
  return typeof status === 'number' ? status : null;
}

/** The engine's own explanation, without dockerode's "(HTTP code …)" wrapping. */
export function engineReason(error: unknown): string {
  const candidate = error as EngineError | null;
  const fromJson = candidate?.json?.message;
  if (typeof fromJson === 'string' && fromJson.length > 0) return fromJson.trim();
  const message = candidate?.message ?? String(error);
  return message.replace(/^\(HTTP code \d+\)\s*[^-]*-\s*/, '').trim();
}
