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
  if (hostKeyRefused(error)) {
    return (
      "the SSH server's host key is not the one pinned for this server (server.one shows " +
      'the pinned sshHostKey; server.update sets a new one if the key really changed)'
    );
  }
  return message.replace(/^\(HTTP code \d+\)\s*[^-]*-\s*/, '').trim();
}

/** Whether an SSH connection was refused because the host key is not the pinned one. */
export function hostKeyRefused(error: unknown): boolean {
  const message = (error as EngineError | null)?.message ?? String(error);
  return /Host denied \(verification failed\)/.test(message);
}

/** Whether a start failed because the host port to publish on is held by someone else. */
export function portTaken(reason: string): boolean {
  return /port is already allocated|address already in use/i.test(reason);
}

/**
 * The first `ip:port` in an engine message: "Bind for 127.0.0.1:6380 failed: …" or
 * "listen tcp6 [::]:6380: bind: …".
 */
export function hostAddressIn(reason: string): string | null {
  return /(\[[0-9a-f:.]+\]|\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}\b/i.exec(reason)?.[0] ?? null;
}

/**
 * Whether a start failed because containerd still holds a task of this container: what a start
 * racing the engine's shutdown leaves behind. Starting again fails the same way for good.
 */
export function taskLeftBehind(reason: string): boolean {
  return /task [0-9a-f]{12,}: already exists/i.test(reason);
}
