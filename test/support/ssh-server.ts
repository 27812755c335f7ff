/**
 * An OpenSSH server of the test's own on 127.0.0.1, whose sessions reach a given Docker
 * engine: the peer a `ssh://` server record is tested against. Its keys are made per run.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ensureCommands } from '../../src/cli/engine/host.js';
import { freePort } from './resp.js';

const execFileAsync = promisify(execFile);

export interface SshServer {
  port: number;
  /** The client's private key, OpenSSH format. */
  privateKey: string;
  /** The server's public host key lines, as in /etc/ssh/ssh_host_{ed25519,rsa}_key.pub. */
  hostPublicKey: string;
  hostRsaPublicKey: string;
  /**
   * Fingerprints as `ssh-keygen -lf` prints them (`SHA256:…`): the host key and the client key.
   */
  hostKeyFingerprint: string;
  clientKeyFingerprint: string;
  stop(): Promise<void>;
}

export async function startSshServer(dockerHost: string): Promise<SshServer> {
  const commands = await ensureCommands(
    [
      { command: 'sshd', debianPackage: 'openssh-server' },
      { command: 'ssh-keygen', debianPackage: 'openssh-client' },
    ],
    () => undefined,
  );
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rc-sshd-'));
  const keygen = commands['ssh-keygen'] ?? 'ssh-keygen';
  for (const [key, type] of [
    ['host', 'ed25519'],
    ['host-rsa', 'rsa'],
    ['client', 'ed25519'],
  ] as const) {
    await execFileAsync(keygen, ['-q', '-t', type, '-N', '', '-f', path.join(dir, key)]);
  }
  fs.copyFileSync(path.join(dir, 'client.pub'), path.join(dir, 'authorized_keys'));
  // sshd insists on its privilege separation directory.
  fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });

  const port = await freePort();
  const config = [
    'ListenAddress 127.0.0.1',
    `Port ${port}`,
    `HostKey ${path.join(dir, 'host')}`,
    `HostKey ${path.join(dir, 'host-rsa')}`,
    `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no',
    // What `docker system dial-stdio`, run by the controller over SSH, connects to.
    `SetEnv DOCKER_HOST=${dockerHost}`,
  ];
  fs.writeFileSync(path.join(dir, 'sshd_config'), `${config.join('\n')}\n`);

  const sshd: ChildProcess = spawn(
    commands.sshd ?? 'sshd',
    ['-D', '-e', '-f', path.join(dir, 'sshd_config')],
    { stdio: ['ignore', 'ignore', fs.openSync(path.join(dir, 'sshd.log'), 'a')] },
  );
  await waitForPort(port);

  const fingerprint = async (file: string) => {
    const { stdout } = await execFileAsync(keygen, ['-l', '-E', 'sha256', '-f', file]);
    const found = /SHA256:[A-Za-z0-9+/]+/.exec(stdout)?.[0];
    if (!found) throw new Error(`ssh-keygen printed no fingerprint for ${file}: ${stdout}`);
    return found;
  };
  return {
    port,
    privateKey: fs.readFileSync(path.join(dir, 'client'), 'utf8'),
    hostPublicKey: fs.readFileSync(path.join(dir, 'host.pub'), 'utf8').trim(),
    hostRsaPublicKey: fs.readFileSync(path.join(dir, 'host-rsa.pub'), 'utf8').trim(),
    hostKeyFingerprint: await fingerprint(path.join(dir, 'host.pub')),
    clientKeyFingerprint: await fingerprint(path.join(dir, 'client.pub')),
    async stop() {
      if (sshd.exitCode === null && sshd.pid !== undefined) {
        const exited = new Promise((resolve) => sshd.once('exit', resolve));
        process.kill(sshd.pid, 'SIGTERM');
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitForPort(port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`sshd did not listen on 127.0.0.1:${port}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
