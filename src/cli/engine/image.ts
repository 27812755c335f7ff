/**
 * The local Redis image. No registry can be reached, so it is assembled from the host's Debian
 * redis-server, redis-cli and /bin/sh, with the libraries ldd names for them, and imported
 * through the engine's API as a one-layer image.
 */
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { engineRequest } from './api.js';
import { ensureCommands } from './host.js';

const execFileAsync = promisify(execFile);

/** Owner of /data in the image, matching the `redis` user written into its /etc/passwd. */
const REDIS_UID = 999;

const IMAGE_CHANGES = [
  'CMD ["redis-server"]',
  'ENV PATH=/usr/local/bin:/usr/bin:/bin',
  'WORKDIR /data',
];

/** Builds and imports the Redis image unless the engine already has it. */
export async function ensureImage(
  socketPath: string,
  image: string,
  log: (message: string) => void,
): Promise<void> {
  const { repo, tag } = splitImageReference(image);
  if (await imageExists(socketPath, image)) {
    log(`image ${image} is present`);
    return;
  }

  const commands = await ensureCommands(
    [
      { command: 'redis-server', debianPackage: 'redis-server' },
      { command: 'redis-cli', debianPackage: 'redis-tools' },
    ],
    log,
  );
  log(`building ${image} from the host's redis-server and redis-cli`);
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'redis-image-'));
  try {
    const root = path.join(work, 'rootfs');
    await buildRootfs(root, [
      [commands['redis-server'] ?? '/usr/bin/redis-server', '/usr/bin/redis-server'],
      [commands['redis-cli'] ?? '/usr/bin/redis-cli', '/usr/bin/redis-cli'],
      ['/bin/sh', '/bin/sh'],
    ]);
    const tarFile = path.join(work, 'rootfs.tar');
    await packRootfs(root, tarFile);

    const query = new URLSearchParams({ fromSrc: '-', repo, tag });
    for (const change of IMAGE_CHANGES) query.append('changes', change);
    const { size } = await fs.stat(tarFile);
    const res = await engineRequest(socketPath, 'POST', `/images/create?${query}`, {
      stream: createReadStream(tarFile),
      length: size,
    });
    // The engine answers 200 and reports a failed import inside its progress stream.
    const failed = res.body.split('\n').find((line) => line.includes('"error"'));
    if (res.statusCode !== 200 || failed !== undefined) {
      throw new Error(`the engine refused to import ${image}: ${failed ?? res.body}`);
    }
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }

  if (!(await imageExists(socketPath, image))) {
    throw new Error(`the engine reported importing ${image}, but does not list it`);
  }
  log(`image ${image} is built`);
}

/** Copies each [host source, image path] binary and every library ldd lists for it. */
async function buildRootfs(root: string, binaries: Array<[string, string]>): Promise<void> {
  const libraries = new Set<string>();
  for (const [source, target] of binaries) {
    await copyInto(root, source, target);
    for (const library of await sharedLibraries(source)) libraries.add(library);
  }
  for (const library of libraries) await copyInto(root, library, library);

  await fs.mkdir(path.join(root, 'data'), { recursive: true });
  await fs.mkdir(path.join(root, 'tmp'), { recursive: true });
  await fs.chmod(path.join(root, 'tmp'), 0o1777);
  await fs.mkdir(path.join(root, 'etc'), { recursive: true });
  await fs.writeFile(
    path.join(root, 'etc/passwd'),
    `root:x:0:0:root:/root:/bin/sh\nredis:x:${REDIS_UID}:${REDIS_UID}:redis:/data:/bin/sh\n`,
  );
  await fs.writeFile(path.join(root, 'etc/group'), `root:x:0:\nredis:x:${REDIS_UID}:\n`);
}

/** Tars the tree owned by root, except /data, which belongs to the redis user. */
async function packRootfs(root: string, tarFile: string): Promise<void> {
  // --mode makes every directory traversable whatever the umask and mkdtemp's 0700 were.
  const common = ['--file', tarFile, '--directory', root, '--numeric-owner', '--mode=u+rwX,go+rX'];
  await execFileAsync('tar', [
    '--create',
    ...common,
    '--owner=0',
    '--group=0',
    '--anchored',
    '--exclude=./data',
    '.',
  ]);
  const owner = [`--owner=${REDIS_UID}`, `--group=${REDIS_UID}`];
  await execFileAsync('tar', ['--append', ...common, ...owner, './data']);
}

/** Absolute paths ldd resolves for a binary, the dynamic loader included. */
async function sharedLibraries(binary: string): Promise<string[]> {
  const { stdout } = await execFileAsync('ldd', [binary]);
  const libraries: string[] = [];
  for (const line of stdout.split('\n')) {
    if (line.includes('not found')) throw new Error(`ldd cannot resolve a library of ${binary}`);
    // `libc.so.6 => /lib/.../libc.so.6 (0x...)` or, for the loader, `/lib64/ld-....so.2 (0x...)`.
    const match = /(?:=>\s*|^\s*)(\/\S+)\s+\(0x/.exec(line);
    if (match?.[1] !== undefined) libraries.push(match[1]);
  }
  return libraries;
}

/** Copies a file, following symlinks, to the same absolute path under root, keeping its mode. */
async function copyInto(root: string, source: string, target: string): Promise<void> {
  const destination = path.join(root, target);
  await fs.mkdir(path.dirname(destination), { recursive: true });
  await fs.copyFile(source, destination);
  await fs.chmod(destination, (await fs.stat(source)).mode & 0o7777);
}

async function imageExists(socketPath: string, image: string): Promise<boolean> {
  const res = await engineRequest(socketPath, 'GET', `/images/${image}/json`);
  if (res.statusCode === 200) return true;
  if (res.statusCode === 404) return false;
  throw new Error(`the engine answered ${res.statusCode} about image ${image}: ${res.body}`);
}

function splitImageReference(image: string): { repo: string; tag: string } {
  const match = /^([a-z0-9][a-z0-9._/-]*?)(?::([\w][\w.-]{0,127}))?$/.exec(image);
  if (match?.[1] === undefined) throw new Error(`REDIS_IMAGE is not an image name: ${image}`);
  return { repo: match[1], tag: match[2] ?? 'latest' };
}
