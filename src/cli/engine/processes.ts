/**
 * Processes seen through /proc, so that a stale pid, or one reused by another program, is never
 * mistaken for a daemon or signalled.
 */
import fs from 'node:fs/promises';

const POLL_INTERVAL_MS = 200;

/** Name of a live process; null when it is gone or a zombie waiting to be reaped. */
export async function processState(pid: number): Promise<{ comm: string } | null> {
  let stat: string;
  try {
    stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    // ESRCH: the process ended between listing /proc and reading it.
    if (['ENOENT', 'ESRCH'].includes((error as NodeJS.ErrnoException).code ?? '')) return null;
    throw error;
  }
  // `pid (comm) state ...`, where comm itself may contain parentheses.
  const close = stat.lastIndexOf(')');
  const state = stat.charAt(close + 2);
  if (state === 'Z' || state === 'X') return null;
  return { comm: stat.slice(stat.indexOf('(') + 1, close) };
}

/** Pids of the live processes with this name, from /proc. */
export async function processesNamed(comm: string): Promise<number[]> {
  const pids = (await fs.readdir('/proc')).filter((name) => /^\d+$/.test(name)).map(Number);
  const found: number[] = [];
  for (const pid of pids) {
    if ((await processState(pid))?.comm === comm) found.push(pid);
  }
  return found;
}

/** A process's arguments and working directory; null when it ended meanwhile. */
export async function processCommandLine(
  pid: number,
): Promise<{ args: string[]; cwd: string } | null> {
  try {
    const raw = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8');
    const cwd = await fs.readlink(`/proc/${pid}/cwd`);
    // NUL-terminated arguments; the first is the program itself.
    return { args: raw.split('\0').slice(1, -1), cwd };
  } catch (error) {
    if (['ENOENT', 'ESRCH'].includes((error as NodeJS.ErrnoException).code ?? '')) return null;
    throw error;
  }
}

/** Sends a signal; false when the process was already gone. */
export function signal(pid: number, name: NodeJS.Signals): boolean {
  try {
    process.kill(pid, name);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await processState(pid)) === null) return true;
    await sleep(POLL_INTERVAL_MS);
  }
  return (await processState(pid)) === null;
}

/** Time a process gets to go after SIGKILL. */
const KILL_WAIT_MS = 5_000;

/**
 * SIGTERM, then SIGKILL if the process outlives `graceMs` (`beforeKill` is told first); true
 * once it is gone, false when it survives even SIGKILL.
 */
export async function terminate(
  pid: number,
  graceMs: number,
  beforeKill: () => void = () => {},
): Promise<boolean> {
  if (!signal(pid, 'SIGTERM') || (await waitForExit(pid, graceMs))) return true;
  beforeKill();
  return !signal(pid, 'SIGKILL') || (await waitForExit(pid, KILL_WAIT_MS));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
