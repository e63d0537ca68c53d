/**
 * Test support: the entries of `os.networkInterfaces()` a test gives the box (the CA's names and
 * subnets are made from them), without the fields that do not matter to it.
 */
import type { NetworkInterfaceInfo } from 'node:os';

/** An IPv4 address with its netmask (internal: the loopback). */
export const v4 = (address: string, netmask: string, internal = false): NetworkInterfaceInfo => ({
  address,
  netmask,
  family: 'IPv4',
  mac: '',
  internal,
  cidr: null,
});

/** An IPv6 address with its netmask, on interface `scopeid`. */
export const v6 = (address: string, netmask: string, scopeid = 0): NetworkInterfaceInfo => ({
  address,
  netmask,
  family: 'IPv6',
  mac: '',
  internal: false,
  scopeid,
  cidr: null,
});
