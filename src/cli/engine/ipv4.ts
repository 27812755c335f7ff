/** IPv4 subnets as the engine's bridge needs them: parsed from CIDR text and compared. */

export interface Ipv4Interface {
  /** The address as a 32-bit unsigned number. */
  address: number;
  prefixLength: number;
}

/**
 * Parses `a.b.c.d/n` naming a host inside its subnet, as a bridge address must; `what` names
 * the setting in the error. Prefixes from /8 to /30 leave room for containers and stay sane.
 */
export function parseIpv4Cidr(text: string, what: string): Ipv4Interface {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text);
  const octets = match?.slice(1, 5).map(Number) ?? [];
  const prefixLength = Number(match?.[5]);
  if (octets.length !== 4 || octets.some((octet) => octet > 255)) {
    throw new Error(`${what} is not an IPv4 address with a prefix, like 10.213.0.1/24: ${text}`);
  }
  if (prefixLength < 8 || prefixLength > 30) {
    throw new Error(`${what} needs a prefix from /8 to /30: ${text}`);
  }

  const address = toNumber(octets);
  const host = address % 2 ** (32 - prefixLength);
  if (host === 0 || host === 2 ** (32 - prefixLength) - 1) {
    throw new Error(`${what} must be a host address, not its subnet's first or last: ${text}`);
  }
  return { address, prefixLength };
}

/** Whether two interfaces' subnets share any address. */
export function subnetsOverlap(a: Ipv4Interface, b: Ipv4Interface): boolean {
  const hostBits = 32 - Math.min(a.prefixLength, b.prefixLength);
  return Math.floor(a.address / 2 ** hostBits) === Math.floor(b.address / 2 ** hostBits);
}

/** An address the host reports, such as `ip addr` lists; no checks, as any prefix may occur. */
export function ipv4Interface(dotted: string, prefixLength: number): Ipv4Interface {
  return { address: toNumber(dotted.split('.').map(Number)), prefixLength };
}

function toNumber(octets: number[]): number {
  return octets.reduce((sum, octet) => sum * 256 + octet, 0);
}
