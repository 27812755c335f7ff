/**
 * Mutual-TLS material made with openssl for one test run, and a TLS front for a Docker unix
 * socket, so a `tcp://` server with certificates can be tested against a real engine.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface TlsMaterial {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

async function openssl(dir: string, args: string[]): Promise<void> {
  await execFileAsync('openssl', args, { cwd: dir });
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the CA. */
export async function makeTlsMaterial(): Promise<TlsMaterial> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rc-tls-'));
  const days = ['-days', '2'];
  await openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-subj',
    '/CN=redis-controller test CA',
    ...days,
  ]);
  for (const [name, extra] of [
    ['server', ['-addext', 'subjectAltName=IP:127.0.0.1']],
    ['client', ['-addext', 'extendedKeyUsage=clientAuth']],
  ] as const) {
    await openssl(dir, [
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${name}`,
      ...extra,
    ]);
    await openssl(dir, [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-copy_extensions',
      'copy',
      ...days,
    ]);
  }
  const read = (file: string): string => fs.readFileSync(path.join(dir, file), 'utf8');
  const material = {
    ca: read('ca.pem'),
    serverCert: read('server.pem'),
    serverKey: read('server.key'),
    clientCert: read('client.pem'),
    clientKey: read('client.key'),
  };
  fs.rmSync(dir, { recursive: true, force: true });
  return material;
}

export interface TlsFront {
  port: number;
  /** Connections whose client certificate the front accepted. */
  authorized: number;
  close(): Promise<void>;
}

/**
 * Listens on 127.0.0.1 with TLS, requires a client certificate from the CA, and forwards each
 * connection to `socketPath`.
 */
export async function tlsFront(material: TlsMaterial, socketPath: string): Promise<TlsFront> {
  const sockets = new Set<net.Socket>();
  const front: TlsFront = { port: 0, authorized: 0, close: async () => undefined };
  const server = tls.createServer(
    {
      key: material.serverKey,
      cert: material.serverCert,
      ca: material.ca,
      requestCert: true,
      rejectUnauthorized: true,
    },
    (client) => {
      if (client.authorized) front.authorized++;
      const engine = net.connect(socketPath);
      sockets.add(client).add(engine);
      client.pipe(engine).pipe(client);
      const drop = (): void => {
        client.destroy();
        engine.destroy();
      };
      client.once('error', drop).once('close', drop);
      engine.once('error', drop).once('close', drop);
    },
  );
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  front.port = (server.address() as net.AddressInfo).port;
  front.close = async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  };
  return front;
}
