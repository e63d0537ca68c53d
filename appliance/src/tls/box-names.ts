/**
 * The names and addresses the box is reached by in the hall, which its server certificate must
 * name: `<name>.local` (mDNS), its host name, `localhost`, every non-internal IPv4/IPv6 address,
 * 127.0.0.1 and ::1, and any extra names configured. Pure: the interfaces and host name are given.
 */
import { isIP } from 'node:net';
import type { NetworkInterfaceInfo } from 'node:os';

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
