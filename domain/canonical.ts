/**
 * Canonical JSON: the one byte form of a value that hashes, signatures and the hash chain use.
 *
 * Spec: objects' keys sorted by UTF-16 code unit order, no whitespace, `undefined` members
 * dropped, numbers as JavaScript prints them (finite only), strings as JSON.stringify escapes
 * them. Two equal values always give the same bytes on the appliance, the client and central.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';

/** A JSON value that canonicalJson accepts. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json | undefined };

/** Serialises `value` canonically; throws on non-finite numbers (a programming error). */
export function canonicalJson(value: Json): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('canonicalJson: non-finite number');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value)
    .filter((k) => value[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k] as Json)}`).join(',')}}`;
}

/** Lower-case hex SHA-256 of bytes. */
export function sha256Hex(bytes: Uint8Array): string {
  return bytesToHex(sha256(bytes));
}

/** Lower-case hex SHA-256 of a string's UTF-8 bytes. */
export function sha256HexOfText(text: string): string {
  return sha256Hex(utf8ToBytes(text));
}

/** SHA-256 of the canonical form of a value. */
export function hashJson(value: Json): string {
  return sha256HexOfText(canonicalJson(value));
}
