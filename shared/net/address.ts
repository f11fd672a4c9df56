/**
 * IP address classification for outgoing requests made on a user's behalf (TAP UPLOAD by URL):
 * which addresses are "public", i.e. globally reachable unicast, and which are loopback,
 * private, link-local, … and must not be reached unless an operator allows them. Ranges are
 * those of the IANA special-purpose address registries (RFC 6890 and its updates); an IPv6
 * address that carries an IPv4 address (IPv4-mapped and -compatible, NAT64, 6to4) is
 * classified by the IPv4 address it leads to, since that is where the packets go.
 *
 * Only canonical text is parsed: dotted-quad IPv4 in decimal, RFC 4291 §2.2 IPv6. Hosts in
 * URLs are normalised by the WHATWG URL parser first (http://2130706433/, http://0x7f.1/ and
 * http://0177.0.0.1/ all become 127.0.0.1), and resolvers return canonical text.
 */
import { domainToASCII } from 'node:url';

export type AddressKind =
  | 'public'
  /** 0.0.0.0/8 ("this network"), ::/128. */
  | 'unspecified'
  /** 127.0.0.0/8, ::1/128. */
  | 'loopback'
  /** RFC 1918: 10/8, 172.16/12, 192.168/16; IPv6 site-local fec0::/10 (deprecated); NAT64 local-use 64:ff9b:1::/48. */
  | 'private'
  /** RFC 6598 shared address space (carrier-grade NAT): 100.64/10. */
  | 'shared'
  /** RFC 4193 unique local addresses: fc00::/7. */
  | 'unique-local'
  /** 169.254/16 (RFC 3927; cloud metadata services live there), fe80::/10. */
  | 'link-local'
  /** 224/4, ff00::/8. */
  | 'multicast'
  /** 255.255.255.255. */
  | 'broadcast'
  /** RFC 5737 192.0.2/24, 198.51.100/24, 203.0.113/24; RFC 3849 2001:db8::/32; RFC 9637 3fff::/20. */
  | 'documentation'
  /** Every other special-purpose or unassigned range (240/4, 198.18/15, 100::/64, IPv6 outside 2000::/3, …). */
  | 'reserved';

export interface ParsedAddress {
  version: 4 | 6;
  /** The address as an unsigned integer: 32 bits for IPv4, 128 for IPv6. */
  value: bigint;
}

const DECIMAL_OCTET = /^(?:0|[1-9]\d{0,2})$/;

function parseIpv4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!DECIMAL_OCTET.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = (value << 8n) | BigInt(octet);
  }
  return value;
}

const HEX_GROUP = /^[0-9a-f]{1,4}$/i;

/** RFC 4291 §2.2: eight 16-bit groups, one `::` for a run of zeros, optionally a dotted IPv4 tail. */
function parseIpv6(text: string): bigint | undefined {
  // A zone (fe80::1%eth0, RFC 4007 §11) names the interface, not the address.
  const zone = text.indexOf('%');
  const address = zone >= 0 ? text.slice(0, zone) : text;
  const halves = address.split('::');
  if (halves.length > 2) return undefined;
  const groups = (half: string): number[] | undefined => {
    if (half === '') return [];
    const out: number[] = [];
    const pieces = half.split(':');
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i]!;
      if (i === pieces.length - 1 && piece.includes('.')) {
        const v4 = parseIpv4(piece);
        if (v4 === undefined) return undefined;
        out.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
      } else if (HEX_GROUP.test(piece)) {
        out.push(parseInt(piece, 16));
      } else {
        return undefined;
      }
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (head === undefined || tail === undefined) return undefined;
  // A dotted tail is only allowed at the very end.
  if (halves.length === 2 && halves[0]!.includes('.')) return undefined;
  const count = head.length + tail.length;
  if (halves.length === 1 ? count !== 8 : count > 7) return undefined;
  const all = [...head, ...new Array<number>(8 - count).fill(0), ...tail];
  return all.reduce((value, group) => (value << 16n) | BigInt(group), 0n);
}

/** The address in `text` (IPv4 dotted quad, or IPv6 with or without brackets), or undefined. */
export function parseAddress(text: string): ParsedAddress | undefined {
  const v4 = parseIpv4(text);
  if (v4 !== undefined) return { version: 4, value: v4 };
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (!bare.includes(':')) return undefined;
  const v6 = parseIpv6(bare);
  return v6 === undefined ? undefined : { version: 6, value: v6 };
}

interface Range {
  base: bigint;
  prefix: number;
}

function inRange(value: bigint, bits: number, range: Range): boolean {
  const shift = BigInt(bits - range.prefix);
  return value >> shift === range.base >> shift;
}

const v4 = (text: string, prefix: number): Range => ({ base: parseIpv4(text)!, prefix });
const v6 = (text: string, prefix: number): Range => ({ base: parseIpv6(text)!, prefix });

/** IANA IPv4 Special-Purpose Address Registry (RFC 6890 §2.2.2 and updates), most specific first. */
const IPV4_RANGES: ReadonlyArray<[Range, AddressKind]> = [
  [v4('255.255.255.255', 32), 'broadcast'],
  [v4('0.0.0.0', 8), 'unspecified'],
  [v4('10.0.0.0', 8), 'private'],
  [v4('100.64.0.0', 10), 'shared'],
  [v4('127.0.0.0', 8), 'loopback'],
  [v4('169.254.0.0', 16), 'link-local'],
  [v4('172.16.0.0', 12), 'private'],
  // IETF protocol assignments (incl. DS-Lite 192.0.0.0/29), and the deprecated 6to4 relay anycast.
  [v4('192.0.0.0', 24), 'reserved'],
  [v4('192.0.2.0', 24), 'documentation'],
  [v4('192.88.99.0', 24), 'reserved'],
  [v4('192.168.0.0', 16), 'private'],
  // RFC 2544 benchmarking.
  [v4('198.18.0.0', 15), 'reserved'],
  [v4('198.51.100.0', 24), 'documentation'],
  [v4('203.0.113.0', 24), 'documentation'],
  [v4('224.0.0.0', 4), 'multicast'],
  [v4('240.0.0.0', 4), 'reserved'],
];

function classifyIpv4(value: bigint): AddressKind {
  for (const [range, kind] of IPV4_RANGES) if (inRange(value, 32, range)) return kind;
  return 'public';
}

const LOW32 = 0xffffffffn;

/** IPv6 ranges that carry an IPv4 address in their low 32 bits (RFC 4291 §2.5.5, RFC 6052 §2.1). */
const IPV4_MAPPED = v6('::ffff:0:0', 96);
const IPV4_COMPATIBLE = v6('::', 96);
const NAT64 = v6('64:ff9b::', 96);
/** RFC 3056 6to4: 2002:AABB:CCDD::/48 routes to the IPv4 address AA.BB.CC.DD. */
const SIX_TO_FOUR = v6('2002::', 16);

/** IANA IPv6 Special-Purpose Address Registry, after the IPv4-carrying forms are handled. */
const IPV6_RANGES: ReadonlyArray<[Range, AddressKind]> = [
  [v6('64:ff9b:1::', 48), 'private'],
  // Discard-only (RFC 6666).
  [v6('100::', 64), 'reserved'],
  [v6('2001:db8::', 32), 'documentation'],
  // IETF protocol assignments, Teredo 2001::/32 included (its client address is obfuscated
  // and reached through a relay, so it cannot be judged here).
  [v6('2001::', 23), 'reserved'],
  [v6('3fff::', 20), 'documentation'],
  [v6('fc00::', 7), 'unique-local'],
  [v6('fe80::', 10), 'link-local'],
  [v6('fec0::', 10), 'private'],
  [v6('ff00::', 8), 'multicast'],
];
/** Global unicast (RFC 4291 §2.4): everything else is unassigned or special. */
const GLOBAL_UNICAST = v6('2000::', 3);

function classifyIpv6(value: bigint): AddressKind {
  if (value === 0n) return 'unspecified';
  if (value === 1n) return 'loopback';
  if (inRange(value, 128, IPV4_MAPPED) || inRange(value, 128, IPV4_COMPATIBLE) || inRange(value, 128, NAT64))
    return classifyIpv4(value & LOW32);
  if (inRange(value, 128, SIX_TO_FOUR)) return classifyIpv4((value >> 80n) & LOW32);
  for (const [range, kind] of IPV6_RANGES) if (inRange(value, 128, range)) return kind;
  return inRange(value, 128, GLOBAL_UNICAST) ? 'public' : 'reserved';
}

/** What kind of address `text` is; undefined when it is not an IP address (a host name). */
export function classifyAddress(text: string): AddressKind | undefined {
  const parsed = parseAddress(text);
  if (parsed === undefined) return undefined;
  return parsed.version === 4 ? classifyIpv4(parsed.value) : classifyIpv6(parsed.value);
}

export function isPublicAddress(text: string): boolean {
  return classifyAddress(text) === 'public';
}

/**
 * The IPv4 address an IPv4-mapped IPv6 address (::ffff:a.b.c.d) stands for: a socket
 * connecting to it reaches a.b.c.d, so an allowed IPv4 address or range allows it too.
 */
function unmapped(address: ParsedAddress): ParsedAddress {
  return address.version === 6 && inRange(address.value, 128, IPV4_MAPPED) ? { version: 4, value: address.value & LOW32 } : address;
}

export class AllowListError extends Error {
  constructor(entry: string) {
    super(`"${entry}" is not an IP address, CIDR range (address/prefix) or host name`);
    this.name = 'AllowListError';
  }
}

/** Lower case, no trailing dot, IDNA ASCII form: what the WHATWG URL parser makes of a host. */
function normalHostName(name: string): string {
  return domainToASCII(name.replace(/\.$/, '')).toLowerCase();
}

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

/**
 * Addresses, CIDR ranges and host names that may be reached although they are not public
 * (UPLOAD_URL_ALLOW). A host name allows whatever it resolves to, for requests to that name;
 * addresses and ranges allow that address whatever name led to it.
 */
export class AllowList {
  private readonly ranges: Array<{ version: 4 | 6; range: Range }> = [];
  private readonly hostNames = new Set<string>();

  /** Throws AllowListError on an entry that is none of the three. */
  constructor(entries: readonly string[]) {
    for (const raw of entries) {
      const entry = raw.trim();
      if (entry === '') continue;
      const slash = entry.indexOf('/');
      const address = parseAddress(slash >= 0 ? entry.slice(0, slash) : entry);
      if (address !== undefined) {
        const bits = address.version === 4 ? 32 : 128;
        const prefixText = slash >= 0 ? entry.slice(slash + 1) : String(bits);
        if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits) throw new AllowListError(entry);
        this.ranges.push({ version: address.version, range: { base: address.value, prefix: Number(prefixText) } });
        continue;
      }
      const name = slash >= 0 ? '' : normalHostName(entry);
      if (!HOST_NAME.test(name)) throw new AllowListError(entry);
      this.hostNames.add(name);
    }
  }

  get empty(): boolean {
    return this.ranges.length === 0 && this.hostNames.size === 0;
  }

  allowsHostName(name: string): boolean {
    return this.hostNames.has(normalHostName(name));
  }

  allowsAddress(text: string): boolean {
    const parsed = parseAddress(text);
    if (parsed === undefined) return false;
    const address = unmapped(parsed);
    const bits = address.version === 4 ? 32 : 128;
    return this.ranges.some((r) => r.version === address.version && inRange(address.value, bits, r.range));
  }

  /** May a request addressed to `hostName` connect to `address`? Public addresses always may. */
  permits(hostName: string, address: string): boolean {
    return isPublicAddress(address) || this.allowsAddress(address) || this.allowsHostName(hostName);
  }
}
