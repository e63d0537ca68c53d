/**
 * The names and addresses the box is reached by in the hall, which its server certificate must
 * name: `<name>.local` (mDNS), its host name, `localhost`, every non-internal IPv4/IPv6 address,
 * 127.0.0.1 and ::1, and any extra names configured. And what the hall CA may vouch for
 * (`caScope`): those DNS names, the box's own addresses, and the hall's subnets. Pure: the
 * interfaces and host name are given.
 */
import { isIP } from 'node:net';
import type { NetworkInterfaceInfo } from 'node:os';
import { inNetwork, parseAddress, parseNetwork, type NetworkRange } from '../../../domain/networks.js';

export interface BoxNames {
  /** DNS names, lower case, sorted. */
  dns: string[];
  /** IP addresses (IPv6 without a zone), sorted. */
  ips: string[];
}

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Whether `name` is a DNS name a certificate can carry (labels of letters, digits and -). */
export function isDnsName(name: string): boolean {
  return name.length <= 253 && name.split('.').every((label) => LABEL.test(label));
}

export function boxNames(input: {
  applianceName: string;
  hostname: string;
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>;
  extraNames: readonly string[];
}): BoxNames {
  const dns = new Set<string>([`${input.applianceName}.local`, 'localhost']);
  const host = input.hostname.trim().toLowerCase().replace(/\.$/, '');
  if (host !== '' && isDnsName(host)) dns.add(host);
  const ips = new Set<string>(['127.0.0.1', '::1']);
  for (const extra of input.extraNames) {
    const name = extra.trim().toLowerCase();
    if (name === '') continue;
    if (isIP(name) !== 0) ips.add(name);
    else if (isDnsName(name)) dns.add(name);
  }
  for (const list of Object.values(input.interfaces)) {
    for (const a of list ?? []) {
      if (a.internal) continue;
      // A link-local IPv6 address is printed with its zone (fe80::1%eth0); a certificate has none.
      ips.add(a.address.replace(/%.*$/, '').toLowerCase());
    }
  }
  return { dns: [...dns].sort(), ips: [...ips].sort() };
}

/** Whether two name sets are the same (order does not matter; both are sorted). */
export function sameNames(a: BoxNames, b: BoxNames): boolean {
  return a.dns.join(',') === b.dns.join(',') && a.ips.join(',') === b.ips.join(',');
}

/** What the hall CA may vouch for: its name constraints' permitted subtrees. */
export interface CaScope {
  /** DNS names; under RFC 5280 each also permits the names below it (x.exam-hall.local). */
  domains: string[];
  /** Address ranges in CIDR notation, canonical (192.168.1.0/24, fd00:1::/64, ::1/128). */
  networks: string[];
}

/**
 * The widest subnet of an interface the CA may cover: a /24 (IPv6 /64) around the box's address,
 * even on a /16 school network, so the CA cannot vouch for servers elsewhere on that network.
 */
export const WIDEST_SUBNET = { 4: 24, 6: 64 } as const;

/** A range's canonical text: the first address (lower case, IPv6 compressed) and the prefix. */
function rangeText(family: 4 | 6, value: bigint, prefix: number): string {
  const bits = family === 4 ? 32 : 128;
  const mask = prefix === 0 ? 0n : ((1n << BigInt(bits)) - 1n) ^ ((1n << BigInt(bits - prefix)) - 1n);
  const base = value & mask;
  if (family === 4) return `${[24n, 16n, 8n, 0n].map((s) => String((base >> s) & 0xffn)).join('.')}/${prefix}`;
  const groups = Array.from({ length: 8 }, (_, i) => ((base >> BigInt(112 - i * 16)) & 0xffffn).toString(16));
  // The URL parser writes IPv6 the canonical way (RFC 5952): lower case, longest zero run as ::.
  return `${new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1)}/${prefix}`;
}

/** A range (or single address) as canonical CIDR text, undefined when it is neither. */
export function canonicalNetwork(text: string): string | undefined {
  const parsed = parseNetwork(text);
  if (!parsed.ok) return undefined;
  return rangeText(parsed.range.family, parsed.range.base, parsed.range.prefix);
}

const LINK_LOCAL: NetworkRange[] = [
  { family: 4, base: 0xa9fe0000n, prefix: 16 }, // 169.254.0.0/16
  { family: 6, base: 0xfe80n << 112n, prefix: 10 }, // fe80::/10
];
const isLinkLocal = (address: string) => LINK_LOCAL.some((range) => inNetwork(range, address));

function prefixOf(info: NetworkInterfaceInfo): number | undefined {
  const fromCidr = info.cidr?.split('/')[1];
  if (fromCidr !== undefined) return Number(fromCidr);
  const mask = parseAddress(info.netmask);
  if (mask === undefined) return undefined;
  return mask.value.toString(2).replace(/0+$/, '').length;
}

/**
 * What a new hall CA may vouch for: the box's DNS names (`names.dns`), every address of the box
 * exactly, and the hall's subnets, so a device that installs the CA trusts it for this box and
 * its hall network only. The subnets are `configuredNetworks` (PROCTOR_TLS_CA_NETWORKS) when set,
 * else the subnet of each non-internal, non-link-local interface address, at most WIDEST_SUBNET.
 * Link-local and loopback addresses count only as themselves.
 */
export function caScope(input: {
  names: BoxNames;
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>;
  configuredNetworks: readonly string[];
}): CaScope {
  const networks = new Set<string>();
  if (input.configuredNetworks.length > 0) {
    for (const n of input.configuredNetworks) {
      const canonical = canonicalNetwork(n);
      if (canonical !== undefined) networks.add(canonical);
    }
  } else {
    for (const list of Object.values(input.interfaces)) {
      for (const info of list ?? []) {
        const address = parseAddress(info.address);
        const prefix = prefixOf(info);
        if (info.internal || address === undefined || prefix === undefined || isLinkLocal(info.address)) continue;
        networks.add(rangeText(address.family, address.value, Math.max(prefix, WIDEST_SUBNET[address.family])));
      }
    }
  }
  for (const ip of input.names.ips) {
    const address = parseAddress(ip);
    if (address !== undefined) networks.add(rangeText(address.family, address.value, address.family === 4 ? 32 : 128));
  }
  // A single address inside a subnet already there adds nothing.
  const subnets = [...networks].flatMap((n) => {
    const parsed = parseNetwork(n);
    return parsed.ok && parsed.range.prefix < (parsed.range.family === 4 ? 32 : 128) ? [parsed.range] : [];
  });
  const covered = (n: string) => {
    const [ip, prefix] = n.split('/');
    return (prefix === '32' || prefix === '128') && subnets.some((range) => inNetwork(range, ip ?? ''));
  };
  return { domains: [...input.names.dns], networks: [...networks].filter((n) => !covered(n)).sort() };
}
