/**
 * What the engine tool needs from the host: commands found on disk or installed with apt-get,
 * root where it is required, and child processes whose output stays off stdout, which carries
 * only the `export` lines meant for `eval`.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';

/** A command the tool runs, and the Debian package that provides it. */
export interface Requirement {
  command: string;
  debianPackage: string;
}

/** Resolves each command's path, installing its Debian package with apt-get when it is missing. */
export async function ensureCommands(
  requirements: Requirement[],
  log: (message: string) => void,
): Promise<Record<string, string>> {
  const missing: Requirement[] = [];
  for (const requirement of requirements) {
    if ((await findExecutable(requirement.command)) === null) missing.push(requirement);
  }
  if (missing.length > 0) {
    const packages = missing.map((requirement) => requirement.debianPackage);
    requireRoot(
      `${missing.map((r) => r.command).join(', ')} missing; run this as root to install them ` +
        `with apt-get, or install the Debian packages ${packages.join(', ')} yourself`,
    );
    log(`installing ${packages.join(', ')} with apt-get`);
    await runToStderr('apt-get', ['update']);
    await runToStderr('apt-get', ['install', '-y', ...packages]);
  }

  const found: Record<string, string> = {};
  for (const { command, debianPackage } of requirements) {
    const location = await findExecutable(command);
    if (location === null)
      throw new Error(`${command} is still missing after installing ${debianPackage}`);
    found[command] = location;
  }
  return found;
}

/** Looks in PATH and the sbin directories, which a non-root PATH often lacks. */
async function findExecutable(command: string): Promise<string | null> {
  const directories = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  directories.push('/usr/local/sbin', '/usr/sbin', '/sbin', '/usr/bin', '/bin');
  for (const directory of directories) {
    const candidate = path.join(directory, command);
    try {
      await fs.access(candidate, fs.constants.X_OK);
      return candidate;
    } catch (error) {
      // Absent here, or present but not executable by us: keep looking further along.
      const code = (error as NodeJS.ErrnoException).code ?? '';
      if (!['ENOENT', 'ENOTDIR', 'EACCES'].includes(code)) throw error;
    }
  }
  return null;
}

/** Throws the given explanation unless this process runs as root. */
export function requireRoot(explanation: string): void {
  if (process.getuid?.() !== 0) throw new Error(explanation);
}

/** Runs a command with its output on our stderr, so stdout stays clean for `eval`. */
function runToStderr(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['ignore', 2, 2],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    child.on('error', reject);
    child.on('exit', (code, signalName) => {
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args.join(' ')} failed with ${signalName ?? code}`));
    });
  });
}
