/**
 * The ustar writer checked by GNU tar, a real reader that verifies header checksums.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { tarArchive } from '../../../src/runtime/docker/tar.js';

const execFileAsync = promisify(execFile);

const BLOCK_BYTES = 512;

let workDir: string | null = null;

afterEach(async () => {
  if (workDir) await fs.rm(workDir, { recursive: true, force: true });
  workDir = null;
});

async function writeArchive(archive: Buffer): Promise<string> {
  workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'rc-tar-'));
  const file = path.join(workDir, 'archive.tar');
  await fs.writeFile(file, archive);
  return file;
}

describe('tarArchive', () => {
  const content = Buffer.from('requirepass "p@ss word"\nappendonly yes\n', 'utf8');
  const archive = tarArchive([
    { name: 'redis-controller', mode: 0o755 },
    { name: 'redis-controller/redis.conf', content, mode: 0o644 },
  ]);

  it('pads to whole blocks and ends with two zero blocks', () => {
    // Two headers, one block of content, two end blocks.
    expect(archive.length).toBe(5 * BLOCK_BYTES);
    expect(archive.subarray(-2 * BLOCK_BYTES).every((byte) => byte === 0)).toBe(true);
  });

  it('lists the directory and the file with their modes and sizes', async () => {
    const file = await writeArchive(archive);
    const { stdout } = await execFileAsync('tar', [
      '--list',
      '--verbose',
      '--numeric-owner',
      '-f',
      file,
    ]);
    const lines = stdout.trim().split('\n');

    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^drwxr-xr-x 0\/0\s+0 .* redis-controller\/$/);
    expect(lines[1]).toMatch(
      new RegExp(`^-rw-r--r-- 0/0\\s+${content.length} .* redis-controller/redis.conf$`),
    );
  });

  it('holds the file content byte for byte', async () => {
    const file = await writeArchive(archive);
    const { stdout } = await execFileAsync('tar', [
      '--extract',
      '--to-stdout',
      '-f',
      file,
      'redis-controller/redis.conf',
    ]);
    expect(stdout).toBe(content.toString('utf8'));
  });

  it('writes content that fills whole blocks without an extra padding block', async () => {
    const exact = Buffer.alloc(BLOCK_BYTES * 2, 'x');
    const file = await writeArchive(tarArchive([{ name: 'full', content: exact, mode: 0o600 }]));
    const { stdout } = await execFileAsync('tar', ['--extract', '--to-stdout', '-f', file]);

    expect(stdout).toBe(exact.toString('utf8'));
    expect((await fs.stat(file)).size).toBe(5 * BLOCK_BYTES);
  });

  it('refuses a name that does not fit the 100-byte name field', () => {
    expect(() =>
      tarArchive([{ name: 'n'.repeat(101), content: Buffer.alloc(0), mode: 0o644 }]),
    ).toThrow(/too long/);
  });
});
