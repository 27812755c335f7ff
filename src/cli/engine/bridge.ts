/**
 * The Linux bridge an engine can have of its own, so that its daemon leaves docker0 to another.
 * Made with iproute2 when absent, and recorded in the engine directory, so that `stop` removes
 * only a bridge this tool created and never one that someone else set up.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import { promisify } from 'node:util';
import { DEFAULT_BRIDGE, type EngineBridge, type EnginePaths } from './config.js';
import { runningDockerds } from './dockerds.js';
import { ensureCommands } from './host.js';
import { type Ipv4Interface, ipv4Interface, parseIpv4Cidr, subnetsOverlap } from './ipv4.js';

const execFileAsync = promisify(execFile);

/** The fields of `ip -j -d link show` that are read here. */
interface Link {
  flags?: string[];
  linkinfo?: { info_kind?: string };
}

interface HostAddress {
  ifname: string;
  text: string;
  subnet: Ipv4Interface;
}

/**
 * Creates the bridge with its address and brings it up, or checks that an existing one is a
 * bridge carrying exactly that address. Refuses a subnet another interface already uses, as
 * the host could then no longer tell which link a container address is on.
 */
export async function ensureBridge(
  bridge: EngineBridge,
  paths: EnginePaths,
  log: (message: string) => void,
): Promise<void> {
  const ip = await ipCommand(log);
  const wanted = parseIpv4Cidr(bridge.cidr, 'ENGINE_BIP');
  const addresses = await hostAddresses(ip);

  const clash = addresses.find(
    (entry) => entry.ifname !== bridge.name && subnetsOverlap(entry.subnet, wanted),
  );
  if (clash !== undefined) {
    throw new Error(
      `ENGINE_BIP=${bridge.cidr} overlaps ${clash.text} on ${clash.ifname}; ` +
        'choose a subnet that no interface of this host uses',
    );
  }

  const link = await readLink(ip, bridge.name);
  if (link === null) {
    log(`creating the bridge ${bridge.name} with ${bridge.cidr}`);
    await run(ip, ['link', 'add', 'name', bridge.name, 'type', 'bridge']);
    // Recorded before anything else can fail, so that `stop` also clears a half-made bridge.
    await fs.writeFile(paths.bridgeRecord, `${bridge.name}\n`);
    await run(ip, ['addr', 'add', bridge.cidr, 'dev', bridge.name]);
    await run(ip, ['link', 'set', bridge.name, 'up']);
    return;
  }

  const kind = link.linkinfo?.info_kind;
  if (kind !== 'bridge') {
    throw new Error(
      `${bridge.name} exists but is a ${kind ?? 'plain'} link, not a bridge; ` +
        'choose another ENGINE_BRIDGE',
    );
  }
  const own = addresses.filter((entry) => entry.ifname === bridge.name);
  const carries = own.some(
    (entry) =>
      entry.subnet.address === wanted.address && entry.subnet.prefixLength === wanted.prefixLength,
  );
  if (!carries) {
    // A bridge of ours without its address was left by an interrupted create; finish it.
    if (own.length > 0 || (await readBridgeRecord(paths)) !== bridge.name) {
      const current = own.map((entry) => entry.text).join(', ') || 'no IPv4 address';
      throw new Error(
        `the bridge ${bridge.name} carries ${current}, not ENGINE_BIP=${bridge.cidr}; ` +
          'give ENGINE_BIP its address, or choose another ENGINE_BRIDGE',
      );
    }
    await run(ip, ['addr', 'add', bridge.cidr, 'dev', bridge.name]);
  }
  if (!(link.flags ?? []).includes('UP')) await run(ip, ['link', 'set', bridge.name, 'up']);
  log(`using the bridge ${bridge.name} with ${bridge.cidr}`);
}

/**
 * Deletes the bridge this tool created for the engine directory, once no dockerd uses it;
 * a bridge the tool found already there is never touched.
 */
export async function removeCreatedBridge(
  paths: EnginePaths,
  log: (message: string) => void,
): Promise<void> {
  const name = await readBridgeRecord(paths);
  if (name === null) return;

  const users = (await runningDockerds()).filter(({ settings }) => settings.bridge === name);
  if (users.length > 0) {
    log(`keeping the bridge ${name}: dockerd (pid ${users.map((u) => u.pid).join(', ')}) uses it`);
    return;
  }

  const ip = await ipCommand(log);
  const link = await readLink(ip, name);
  if (link?.linkinfo?.info_kind === 'bridge') {
    log(`removing the bridge ${name}`);
    await run(ip, ['link', 'delete', name, 'type', 'bridge']);
  }
  await fs.rm(paths.bridgeRecord, { force: true });
}

/** The bridge named by the record; null without one, or when it names what is not ours. */
async function readBridgeRecord(paths: EnginePaths): Promise<string | null> {
  let text: string;
  try {
    text = await fs.readFile(paths.bridgeRecord, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const name = text.trim();
  // docker0 belongs to whichever daemon runs on it; an edited record must not delete it.
  return /^[A-Za-z0-9_.-]{1,15}$/.test(name) && name !== DEFAULT_BRIDGE ? name : null;
}

async function ipCommand(log: (message: string) => void): Promise<string> {
  const commands = await ensureCommands([{ command: 'ip', debianPackage: 'iproute2' }], log);
  return commands.ip ?? 'ip';
}

/** The link's details; null when no interface has that name. */
async function readLink(ip: string, name: string): Promise<Link | null> {
  try {
    const { stdout } = await execFileAsync(ip, ['-j', '-d', 'link', 'show', 'dev', name]);
    const links = JSON.parse(stdout) as Link[];
    return links[0] ?? null;
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '');
    if (stderr.includes('does not exist')) return null;
    throw new Error(`ip link show dev ${name} failed: ${stderr.trim()}`, { cause: error });
  }
}

/** Every IPv4 address on the host's interfaces, with its subnet. */
async function hostAddresses(ip: string): Promise<HostAddress[]> {
  const { stdout } = await execFileAsync(ip, ['-j', '-4', 'addr', 'show']);
  const links = JSON.parse(stdout) as Array<{
    ifname: string;
    addr_info?: Array<{ local?: string; prefixlen?: number }>;
  }>;
  const found: HostAddress[] = [];
  for (const link of links) {
    for (const { local, prefixlen } of link.addr_info ?? []) {
      if (local === undefined || prefixlen === undefined) continue;
      const text = `${local}/${prefixlen}`;
      found.push({ ifname: link.ifname, text, subnet: ipv4Interface(local, prefixlen) });
    }
  }
  return found;
}

async function run(ip: string, args: string[]): Promise<void> {
  try {
    await execFileAsync(ip, args);
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
    throw new Error(`ip ${args.join(' ')} failed: ${stderr}`, { cause: error });
  }
}
