/**
 * Allowed examinee networks (Exam info, TomaSafe's "IP blocks"): address ranges in CIDR notation
 * (`10.20.0.0/16`, `fd00:e8::/32`) or single addresses, exam-wide. An empty list allows every
 * address. Pure, so the dashboard checks what a proctor types with the same rules as the appliance.
 * An IPv4 address as IPv6 (`::ffff:10.20.1.5`, how a dual-stack socket reports it) is its IPv4.
 */

/** At most this many ranges per exam (a hall has a few subnets, not hundreds). */
export const MAX_ALLOWED_NETWORKS = 32;

/** One range: a family, its first address as a number and the prefix length. */
export interface NetworkRange {
  family: 4 | 6;
  base: bigint;
  prefix: number;
}

function parseIPv4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255 || (p.length > 1 && p.startsWith('0'))) return undefined;
    value = (value << 8n) | BigInt(p);
  }
  return value;
}

function parseIPv6(text: string): bigint | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (half: string): string[] | undefined => {
    if (half === '') return [];
    const out = half.split(':');
    const last = out[out.length - 1]!;
    if (last.includes('.')) {
      const v4 = parseIPv4(last);
      if (v4 === undefined) return undefined;
      out.splice(out.length - 1, 1, ((v4 >> 16n) & 0xffffn).toString(16), (v4 & 0xffffn).toString(16));
    }
    return out.every((g) => /^[0-9a-f]{1,4}$/i.test(g)) ? out : undefined;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (head === undefined || tail === undefined) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  let value = 0n;
  for (const g of [...head, ...Array<string>(missing).fill('0'), ...tail]) value = (value << 16n) | BigInt(`0x${g}`);
  return value;
}

const MAPPED_PREFIX = 0xffffn << 32n;

/** An address as family and number; IPv4-mapped IPv6 counts as IPv4. Undefined if not an address. */
export function parseAddress(text: string): { family: 4 | 6; value: bigint } | undefined {
  const t = text.trim().replace(/%.*$/, ''); // a zone id (fe80::1%eth0) says nothing about the range
  const v4 = parseIPv4(t);
  if (v4 !== undefined) return { family: 4, value: v4 };
  const v6 = parseIPv6(t);
  if (v6 === undefined) return undefined;
  if (v6 >> 32n === MAPPED_PREFIX >> 32n) return { family: 4, value: v6 & 0xffffffffn };
  return { family: 6, value: v6 };
}

/** A range as a proctor types it, or a message saying what is wrong with it. */
export function parseNetwork(text: string): { ok: true; range: NetworkRange } | { ok: false; message: string } {
  const t = text.trim();
  const [addressText, prefixText, extra] = t.split('/');
  const address = addressText === undefined ? undefined : parseAddress(addressText);
  if (extra !== undefined || address === undefined)
    return { ok: false, message: `"${t}" is not an address range: write it as 10.20.0.0/16 or fd00::/8` };
  const bits = address.family === 4 ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText))
    return { ok: false, message: `"${t}": the part after / is a prefix length from 0 to ${bits}` };
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  if (prefix > bits) return { ok: false, message: `"${t}": the part after / is a prefix length from 0 to ${bits}` };
  const mask = prefixMask(bits, prefix);
  if ((address.value & ~mask & ((1n << BigInt(bits)) - 1n)) !== 0n)
    return {
      ok: false,
      message: `"${t}" has bits set past its /${prefix}: the range starts at ${formatBase(address.family, address.value & mask)}/${prefix}`,
    };
  return { ok: true, range: { family: address.family, base: address.value, prefix } };
}

function prefixMask(bits: number, prefix: number): bigint {
  const all = (1n << BigInt(bits)) - 1n;
  return prefix === 0 ? 0n : (all >> BigInt(bits - prefix)) << BigInt(bits - prefix);
}

function formatBase(family: 4 | 6, value: bigint): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join('.');
  const groups = Array.from({ length: 8 }, (_, i) => ((value >> BigInt(112 - i * 16)) & 0xffffn).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

/** Whether `address` is in the range. */
export function inNetwork(range: NetworkRange, address: string): boolean {
  const a = parseAddress(address);
  if (a === undefined || a.family !== range.family) return false;
  const mask = prefixMask(range.family === 4 ? 32 : 128, range.prefix);
  return (a.value & mask) === range.base;
}

/**
 * Whether an examinee at `address` may sign in: always with no ranges set; otherwise only from an
 * address inside one of them (an unknown address is outside).
 */
export function networkAllowed(ranges: readonly string[], address: string | undefined): boolean {
  if (ranges.length === 0) return true;
  if (address === undefined) return false;
  return ranges.some((r) => {
    const parsed = parseNetwork(r);
    return parsed.ok && inNetwork(parsed.range, address);
  });
}
