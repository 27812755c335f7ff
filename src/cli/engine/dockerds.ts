/**
 * The dockerd processes already on this host, what they were started with, and whether one
 * would fight the daemon we are about to start: over a bridge, or over its files.
 */
import path from 'node:path';
import { DEFAULT_BRIDGE } from './config.js';
import { processCommandLine, processesNamed } from './processes.js';

/** What two daemons on one host must not share. */
export interface DockerdSettings {
  bridge: string;
  dataRoot: string;
  execRoot: string;
  pidFile: string;
}

export interface RunningDockerd {
  pid: number;
  settings: DockerdSettings;
}

/** dockerd's own defaults, for a daemon started without the flag. */
const DEFAULTS: DockerdSettings = {
  bridge: DEFAULT_BRIDGE,
  dataRoot: '/var/lib/docker',
  execRoot: '/var/run/docker',
  pidFile: '/var/run/docker.pid',
};

/** Live dockerd processes on this host, with the settings their command lines give. */
export async function runningDockerds(): Promise<RunningDockerd[]> {
  const found: RunningDockerd[] = [];
  for (const pid of await processesNamed('dockerd')) {
    const commandLine = await processCommandLine(pid);
    if (commandLine === null) continue;
    found.push({ pid, settings: dockerdSettings(commandLine.args, commandLine.cwd) });
  }
  return found;
}

/**
 * Reads dockerd's flags as its flag parser does: `--name value`, `--name=value`, `-x value`,
 * `-x=value` and `-xvalue`; the last one given wins. Settings made in a daemon.json are not
 * seen, so such a daemon is taken to be on docker0 and in the default directories. That errs
 * on the side of refusing a second default engine; a daemon whose daemon.json names the very
 * bridge we were given would go unnoticed, and dockerd would then fail on the bridge instead.
 */
export function dockerdSettings(args: string[], cwd: string): DockerdSettings {
  const pick = (fallback: string, long: string[], short?: string): string => {
    const value = lastFlagValue(args, long, short);
    return value === undefined ? fallback : path.resolve(cwd, value);
  };
  return {
    bridge: lastFlagValue(args, ['bridge'], 'b') || DEFAULTS.bridge,
    dataRoot: pick(DEFAULTS.dataRoot, ['data-root', 'graph'], 'g'),
    execRoot: pick(DEFAULTS.execRoot, ['exec-root']),
    pidFile: pick(DEFAULTS.pidFile, ['pidfile'], 'p'),
  };
}

/** What a running daemon shares with ours, each as a phrase; empty when they can coexist. */
export function sharedWith(ours: DockerdSettings, theirs: DockerdSettings): string[] {
  const shared: string[] = [];
  if (ours.bridge === theirs.bridge) shared.push(`the bridge ${ours.bridge}`);
  if (ours.dataRoot === theirs.dataRoot) shared.push(`the data root ${ours.dataRoot}`);
  if (ours.execRoot === theirs.execRoot) shared.push(`the exec root ${ours.execRoot}`);
  if (ours.pidFile === theirs.pidFile) shared.push(`the pid file ${ours.pidFile}`);
  return shared;
}

function lastFlagValue(args: string[], long: string[], short?: string): string | undefined {
  let value: string | undefined;
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] ?? '';
    const next = args[index + 1];
    for (const name of long) {
      if (arg === `--${name}` && next !== undefined) value = next;
      else if (arg.startsWith(`--${name}=`)) value = arg.slice(name.length + 3);
    }
    if (short === undefined) continue;
    if (arg === `-${short}` && next !== undefined) value = next;
    else if (arg.startsWith(`-${short}=`)) value = arg.slice(3);
    else if (arg.startsWith(`-${short}`) && !arg.startsWith('--')) value = arg.slice(2);
  }
  return value;
}
