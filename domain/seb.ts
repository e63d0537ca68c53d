/**
 * Safe Exam Browser (SEB): the keys a SEB client sends, and the Config Key of a configuration,
 * computed exactly as SEB clients and Moodle's quizaccess_seb compute them.
 *
 * Spec of the request headers. When a configuration has `sendBrowserExamKey` on, SEB adds to its
 * requests (every top-level navigation and, in SEB for Windows, every request to the page's host)
 *
 *     X-SafeExamBrowser-RequestHash   = hex(SHA-256(UTF-8(url + browserExamKey)))
 *     X-SafeExamBrowser-ConfigKeyHash = hex(SHA-256(UTF-8(url + configKey)))
 *
 * where `url` is the absolute URL of that request cut at its first '#', and both keys are 64
 * lower-case hex digits. Sources: SafeExamBrowser/seb-win-refactoring,
 * SafeExamBrowser.Configuration/Cryptography/KeyGenerator.cs (`url.Split('#')[0]`, UTF-8, lower-case
 * hex) and SafeExamBrowser.Browser/Handlers/ResourceHandler.cs (which requests carry the headers);
 * moodle/moodle, mod/quiz/accessrule/seb/classes/access_manager.php (`check_key`: the trimmed header
 * must equal `hash('sha256', $url . $validkey)`, for any of the allowed keys).
 *
 * Spec of the Config Key. Config Key = hex(SHA-256(UTF-8(SEB-JSON(settings)))), where SEB-JSON is
 * the settings dictionary of the .seb file written as JSON with these rules (SEB developer
 * documentation "SEB Config Key"; SafeExamBrowser/seb-mac Classes/Cryptography/SEBCryptor.m
 * `getConfigKeyDictionaryForKey:` and `jsonStringForObject:`; seb-win-refactoring
 * SafeExamBrowser.Configuration/ConfigurationData/Json.cs; moodle/moodle
 * mod/quiz/accessrule/seb/classes/config_key.php and property_list.php `to_json`):
 *  1. The key "originatorVersion" is left out, in every dictionary (it only records which SEB
 *     version saved the file).
 *  2. Dictionaries are written with their keys ordered case-insensitively, not by code point, and
 *     recursively (also dictionaries inside arrays). Where two keys differ only in case, the lower
 *     case one comes first ("allowWlan" before "allowWLAN", the documentation's own example).
 *  3. A dictionary that is empty (after rule 1) is left out together with its key.
 *  4. No whitespace or line breaks between tokens.
 *  5. Strings are written between double quotes exactly as they are, with no escaping at all
 *     (also not of "/" or "\\"): the documentation's "don't add character escaping", seb-mac.
 *  6. true / false; integers in decimal; <data> as standard Base64 ("" when empty).
 *  7. Arrays keep their order.
 * SEB clients disagree on a few corner cases, so a configuration that must give the same key
 * everywhere avoids them, as the appliance's own configuration does: strings containing '"' (the
 * newest SEB for Windows escapes it), control characters (Moodle strips them), keys that mix '_'
 * with digits at the same position (the clients' orderings differ there), <date> values (written in
 * three different formats) and <real> values (formatted differently). Dates and non-finite numbers
 * are refused here; the rest is written by rules 1-7.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import type { Refusal } from './errors.js';

/** A value in a SEB settings dictionary (a property list value; <data> is a Uint8Array). */
export type SebConfigValue = boolean | number | string | Uint8Array | readonly SebConfigValue[] | SebConfigDict;

/** A SEB settings dictionary, the root of a .seb file. Members set to undefined are absent. */
export interface SebConfigDict {
  readonly [key: string]: SebConfigValue | undefined;
}

/** The header SEB sends with the Browser Exam Key hash. */
export const REQUEST_HASH_HEADER = 'X-SafeExamBrowser-RequestHash';
/** The header SEB sends with the Config Key hash. */
export const CONFIG_KEY_HASH_HEADER = 'X-SafeExamBrowser-ConfigKeyHash';

const HEX64 = /^[0-9a-f]{64}$/;

const sha256HexOf = (text: string) => bytesToHex(sha256(utf8ToBytes(text)));

/** The URL as SEB hashes it: everything before the first '#'. */
export function withoutFragment(url: string): string {
  const hash = url.indexOf('#');
  return hash === -1 ? url : url.slice(0, hash);
}

/**
 * The hash SEB sends for a request to `url` with `key` (a Browser Exam Key or a Config Key):
 * hex(SHA-256(url without fragment + key)).
 */
export function requestHash(url: string, key: string): string {
  return sha256HexOf(withoutFragment(url) + key);
}

/**
 * SEB's hash of a quit or admin password (`hashedQuitPassword`, `hashedAdminPassword`): lower-case
 * hex SHA-256 of the password's UTF-8 bytes (moodle/moodle quizaccess_seb quiz_settings.php
 * `process_quit_password_settings`).
 */
export function sebPasswordHash(password: string): string {
  return sha256HexOf(password);
}

/**
 * Orders dictionary keys as SEB-JSON does: case-insensitively, and lower case first where two keys
 * differ only in case. For keys of letters and digits this is the order of all SEB clients and
 * Moodle (seb-mac `caseInsensitiveOrdinalCompare:`, .NET InvariantCulture, ICU root collation).
 */
export function compareSebKeys(a: string, b: string): number {
  const foldedA = a.toLowerCase();
  const foldedB = b.toLowerCase();
  if (foldedA !== foldedB) return foldedA < foldedB ? -1 : 1;
  if (a === b) return 0;
  // Same letters, different case: the lower case letter (the higher code unit) comes first.
  return a > b ? -1 : 1;
}

const ORIGINATOR_VERSION = 'originatorVersion';

/**
 * The SEB-JSON text of a settings dictionary (see the spec at the top of this file).
 * @throws TypeError on values a property list cannot hold or SEB clients do not agree on
 *   (null, Date, non-finite numbers, functions ...): a programming error, never input.
 */
export function sebConfigJson(settings: SebConfigDict): string {
  return dictionaryJson(settings) ?? '{}';
}

/** The Config Key of a settings dictionary: hex(SHA-256(SEB-JSON)). */
export function sebConfigKey(settings: SebConfigDict): string {
  return sha256HexOf(sebConfigJson(settings));
}

/** A dictionary's SEB-JSON, or undefined when it is empty after leaving out originatorVersion. */
function dictionaryJson(dict: SebConfigDict): string | undefined {
  const members: string[] = [];
  for (const key of Object.keys(dict).sort(compareSebKeys)) {
    const value = dict[key];
    if (key === ORIGINATOR_VERSION || value === undefined) continue;
    if (isDictionary(value)) {
      const nested = dictionaryJson(value);
      if (nested !== undefined) members.push(`"${key}":${nested}`);
    } else {
      members.push(`"${key}":${valueJson(value)}`);
    }
  }
  return members.length === 0 ? undefined : `{${members.join(',')}}`;
}

function valueJson(value: SebConfigValue): string {
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'string') return `"${value}"`;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('SEB settings: numbers must be finite');
    return String(value);
  }
  if (value instanceof Uint8Array) return `"${toBase64(value)}"`;
  if (Array.isArray(value)) return `[${(value as readonly SebConfigValue[]).map(valueJson).join(',')}]`;
  // An (empty) dictionary inside an array stays as "{}", as in SEB for Windows.
  if (isDictionary(value)) return dictionaryJson(value) ?? '{}';
  throw new TypeError(`SEB settings: unsupported value ${Object.prototype.toString.call(value)}`);
}

function isDictionary(value: unknown): value is SebConfigDict {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Standard Base64 with padding. */
export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** Why a request was refused: a short code for the event log. */
export type SebRefusalReason = 'headers-missing' | 'header-malformed' | 'hash-mismatch' | 'no-allowed-keys';

/** What a request presented: its absolute URL and the two SEB headers (as received, if any). */
export interface SebRequest {
  url: string;
  requestHash?: string | undefined;
  configKeyHash?: string | undefined;
}

/** The keys an exam accepts: Browser Exam Keys and Config Keys, 64 hex digits each. */
export interface SebAllowedKeys {
  browserExamKeys: readonly string[];
  configKeys: readonly string[];
}

/** The outcome of checking a request's SEB headers. */
export type SebCheck =
  | { ok: true; matched: 'browser-exam-key' | 'config-key' }
  | (Refusal & { code: 'seb-required'; reason: SebRefusalReason; detail: string });

/**
 * Checks a request's SEB headers against the allowed keys. The request passes when a header proves
 * one allowed key for this very URL: the RequestHash one of the Browser Exam Keys, or the
 * ConfigKeyHash one of the Config Keys (each allowed key stands for one allowed setup; a header of
 * a kind with no allowed keys proves nothing). As in Moodle, header values are trimmed; hex case is
 * ignored, and hashes are compared in constant time.
 */
export function checkSebHeaders(request: SebRequest, allowed: SebAllowedKeys): SebCheck {
  const refuse = (reason: SebRefusalReason, detail: string): SebCheck => ({
    ok: false,
    code: 'seb-required',
    reason,
    detail,
  });
  const browserExamKeys = allowed.browserExamKeys.map((k) => k.toLowerCase());
  const configKeys = allowed.configKeys.map((k) => k.toLowerCase());
  if (browserExamKeys.length === 0 && configKeys.length === 0) {
    return refuse(
      'no-allowed-keys',
      'the exam requires Safe Exam Browser but allows no Browser Exam Key or Config Key',
    );
  }
  const presented = [
    { header: REQUEST_HASH_HEADER, value: clean(request.requestHash), keys: browserExamKeys, kind: 'browser-exam-key' },
    { header: CONFIG_KEY_HASH_HEADER, value: clean(request.configKeyHash), keys: configKeys, kind: 'config-key' },
  ] as const;
  if (presented.every((p) => p.value === undefined)) {
    return refuse(
      'headers-missing',
      `no ${REQUEST_HASH_HEADER} or ${CONFIG_KEY_HASH_HEADER} header: open the exam in Safe Exam Browser with the exam's configuration`,
    );
  }
  const problems: string[] = [];
  let malformed = false;
  for (const p of presented) {
    if (p.value === undefined) continue;
    if (!HEX64.test(p.value)) {
      malformed = true;
      problems.push(`${p.header} is not 64 hexadecimal digits`);
      continue;
    }
    if (p.keys.length === 0) {
      problems.push(`${p.header} cannot be checked: the exam allows no ${describeKind(p.kind)}s`);
      continue;
    }
    const value = p.value;
    if (p.keys.some((key) => equalInConstantTime(requestHash(request.url, key), value))) {
      return { ok: true, matched: p.kind };
    }
    problems.push(`${p.header} matches no allowed ${describeKind(p.kind)} for ${withoutFragment(request.url)}`);
  }
  return refuse(malformed ? 'header-malformed' : 'hash-mismatch', problems.join('; '));
}

const describeKind = (kind: 'browser-exam-key' | 'config-key') =>
  kind === 'browser-exam-key' ? 'Browser Exam Key' : 'Config Key';

/** A header value trimmed and in lower case, or undefined when absent or blank. */
function clean(value: string | undefined): string | undefined {
  const trimmed = value?.trim().toLowerCase();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

/** Compares two strings of equal length without stopping at the first difference. */
function equalInConstantTime(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
