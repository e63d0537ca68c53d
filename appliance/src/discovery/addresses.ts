/**
 * Which of the box's addresses mDNS may announce, and who may ask by unicast. Pure: the
 * interfaces are passed in (`os.networkInterfaces()` in production).
 *
 * A device that resolves `<name>.local` connects to whichever address it picks, so the box
 * announces exactly the addresses its server accepts connections on:
 *
 *   listening on 0.0.0.0        every IPv4 address (no AAAA: an IPv6 connection would be refused)
 *   listening on ::             every IPv4 and IPv6 address, link-local ones included: Node
 *                               listens dual-stack (libuv clears IPV6_V6ONLY unless `ipv6Only`
 *                               is asked for, whatever net.ipv6.bindv6only says)
 *   listening on one address    that address only
 */
import { BlockList, isIPv4 } from 'node:net';
import type { NetworkInterfaceInfo } from 'node:os';

export type Interfaces = NodeJS.Dict<NetworkInterfaceInfo[]>;

/** `::ffff:10.0.0.1` (an IPv4 client of a dual-stack socket) as `10.0.0.1`. */
function unmapped(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? m[1]! : address.toLowerCase();
}

/** The non-loopback addresses a server listening on `listenAddress` accepts connections on. */
export function acceptedAddresses(listenAddress: string, interfaces: Interfaces): Set<string> {
  const ipv4Only = listenAddress === '0.0.0.0';
  const everyAddress = ipv4Only || listenAddress === '::';
  const own = unmapped(listenAddress);
  const accepted = new Set<string>();
  for (const list of Object.values(interfaces))
    for (const a of list ?? []) {
      if (a.internal) continue;
      const address = a.address.toLowerCase();
      if (everyAddress ? !ipv4Only || a.family === 'IPv4' : address === own) accepted.add(address);
    }
  return accepted;
}

/**
 * Whether `address` is on one of the box's own networks (or the box itself). RFC 6762 §11: a
 * query that reaches port 5353 by unicast from off the link is not answered, so the box's records
 * stay on the hall's network even where a router forwards unicast to it.
 */
export function isOnLink(address: string, interfaces: Interfaces): boolean {
  const subnets = new BlockList();
  for (const list of Object.values(interfaces))
    for (const a of list ?? []) {
      const [network, prefix] = a.cidr?.split('/') ?? [];
      if (network === undefined || prefix === undefined) continue;
      subnets.addSubnet(network, Number(prefix), a.family === 'IPv4' ? 'ipv4' : 'ipv6');
    }
  const plain = unmapped(address);
  if (!isIPv4(plain) && /^fe[89ab]/i.test(plain)) return true; // IPv6 link-local: on the link by definition
  return subnets.check(plain, isIPv4(plain) ? 'ipv4' : 'ipv6');
}
