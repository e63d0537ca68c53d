import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { examForExaminees } from './answers.js';
import {
  checkSebHeaders,
  compareSebKeys,
  requestHash,
  sebConfigJson,
  sebConfigKey,
  sebPasswordHash,
  toBase64,
  withoutFragment,
  type SebConfigDict,
  type SebConfigValue,
} from './seb.js';
import { makeExam } from '../tests/support/fixtures.js';

const hex = (text: string) => bytesToHex(sha256(utf8ToBytes(text)));
const BEK = 'a'.repeat(64);
const CK = 'c'.repeat(64);
const URL_ = 'https://hall-a.local/api/exam?x=1';

describe('the Config Key', () => {
  it('leaves out originatorVersion at every level and empty dictionaries', () => {
    const withExtras: SebConfigDict = {
      startURL: 'https://hall-a.local/',
      originatorVersion: 'SEB_Win_3.7',
      proxies: { originatorVersion: 'x' },
      nested: { b: 1, originatorVersion: 'y', a: true },
    };
    expect(sebConfigJson(withExtras)).toBe('{"nested":{"a":true,"b":1},"startURL":"https://hall-a.local/"}');
    expect(sebConfigJson({})).toBe('{}');
    expect(sebConfigKey({})).toBe(hex('{}'));
  });

  it('orders keys case-insensitively, also inside arrays, lower case first on a tie', () => {
    expect(['b', 'URLFilterRules', 'allowWLAN', 'a', 'allowWlan', 'urlFilterRegex'].sort(compareSebKeys)).toEqual([
      'a',
      'allowWlan',
      'allowWLAN',
      'b',
      'urlFilterRegex',
      'URLFilterRules',
    ]);
    const rules: SebConfigDict = {
      URLFilterRules: [{ regex: false, expression: 'hall-a.local', active: true, action: 1 }],
    };
    expect(sebConfigJson(rules)).toBe(
      '{"URLFilterRules":[{"action":1,"active":true,"expression":"hall-a.local","regex":false}]}',
    );
  });

  it('writes strings without escaping, data as Base64 and keeps array order', () => {
    expect(sebConfigJson({ s: 'a/b\\c é', d: new Uint8Array([1, 2, 3, 250]), e: new Uint8Array(), l: [3, 1, 2] })).toBe(
      '{"d":"AQID+g==","e":"","l":[3,1,2],"s":"a/b\\c é"}',
    );
  });

  it('does not depend on the order keys were inserted in', () => {
    const a = sebConfigKey({ x: 1, Y: 'z', b: [true] });
    const b = sebConfigKey({ b: [true], Y: 'z', x: 1 });
    expect(a).toBe(b);
    expect(sebConfigKey({ x: 2, Y: 'z', b: [true] })).not.toBe(a);
  });

  it('refuses values a .seb file cannot hold the same way on every SEB', () => {
    expect(() => sebConfigJson({ when: new Date(0) as unknown as SebConfigValue })).toThrow(TypeError);
    expect(() => sebConfigJson({ n: Number.NaN })).toThrow(TypeError);
    expect(() => sebConfigJson({ n: null as unknown as SebConfigValue })).toThrow(TypeError);
  });

  it('encodes Base64 like the standard (RFC 4648 vectors; a long input round-trips)', () => {
    expect(['', 'f', 'fo', 'foo', 'foob', 'fooba', 'foobar'].map((s) => toBase64(utf8ToBytes(s)))).toEqual([
      '',
      'Zg==',
      'Zm8=',
      'Zm9v',
      'Zm9vYg==',
      'Zm9vYmE=',
      'Zm9vYmFy',
    ]);
    const bytes = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 7) % 256);
    const decoded = Uint8Array.from(atob(toBase64(bytes)), (ch) => ch.charCodeAt(0));
    expect(decoded.length === bytes.length && decoded.every((b, i) => b === bytes[i])).toBe(true);
  });
});

describe('request hashes', () => {
  it('hash the absolute URL without its fragment followed by the key', () => {
    expect(requestHash(URL_, BEK)).toBe(hex(URL_ + BEK));
    expect(requestHash(`${URL_}#question-3`, BEK)).toBe(hex(URL_ + BEK));
    expect(withoutFragment('https://h/p?a#b#c')).toBe('https://h/p?a');
    expect(requestHash('https://hall-a.local/api/exam?x=2', BEK)).not.toBe(requestHash(URL_, BEK));
  });

  it('hash quit passwords as SEB expects (lower-case hex SHA-256)', () => {
    expect(sebPasswordHash('quit-now')).toBe(hex('quit-now'));
    expect(sebPasswordHash('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('checkSebHeaders', () => {
  const allowed = { browserExamKeys: [BEK], configKeys: [CK] };

  it('refuses a request without SEB headers', () => {
    const result = checkSebHeaders({ url: URL_ }, allowed);
    expect(result).toMatchObject({ ok: false, code: 'seb-required', reason: 'headers-missing' });
    expect(checkSebHeaders({ url: URL_, requestHash: '  ', configKeyHash: '' }, allowed)).toMatchObject({
      reason: 'headers-missing',
    });
  });

  it('accepts a RequestHash made with an allowed Browser Exam Key', () => {
    expect(checkSebHeaders({ url: URL_, requestHash: requestHash(URL_, BEK) }, allowed)).toEqual({
      ok: true,
      matched: 'browser-exam-key',
    });
  });

  it('accepts a ConfigKeyHash made with an allowed Config Key, trimmed and in any case', () => {
    const header = ` ${requestHash(URL_, CK).toUpperCase()} `;
    expect(checkSebHeaders({ url: URL_, configKeyHash: header }, allowed)).toEqual({ ok: true, matched: 'config-key' });
  });

  it('accepts when one header proves an allowed key even if the other is unknown', () => {
    const result = checkSebHeaders(
      { url: URL_, requestHash: requestHash(URL_, 'b'.repeat(64)), configKeyHash: requestHash(URL_, CK) },
      allowed,
    );
    expect(result).toEqual({ ok: true, matched: 'config-key' });
  });

  it('refuses a hash made for another URL or with a key that is not allowed', () => {
    const elsewhere = checkSebHeaders(
      { url: URL_, configKeyHash: requestHash('https://hall-a.local/api/exam?x=2', CK) },
      allowed,
    );
    expect(elsewhere).toMatchObject({ ok: false, reason: 'hash-mismatch' });
    expect(elsewhere.ok ? '' : elsewhere.detail).toContain('ConfigKeyHash matches no allowed Config Key');
    const wrongKind = checkSebHeaders({ url: URL_, requestHash: requestHash(URL_, CK) }, allowed);
    expect(wrongKind).toMatchObject({ ok: false, reason: 'hash-mismatch' });
  });

  it('says when a header cannot be checked because its kind has no allowed keys', () => {
    const result = checkSebHeaders(
      { url: URL_, requestHash: requestHash(URL_, BEK) },
      { browserExamKeys: [], configKeys: [CK] },
    );
    expect(result).toMatchObject({ ok: false, reason: 'hash-mismatch' });
    expect(result.ok ? '' : result.detail).toContain('the exam allows no Browser Exam Keys');
  });

  it('refuses malformed headers and exams without any allowed key', () => {
    expect(checkSebHeaders({ url: URL_, requestHash: 'not-a-hash' }, allowed)).toMatchObject({
      reason: 'header-malformed',
    });
    expect(
      checkSebHeaders({ url: URL_, requestHash: requestHash(URL_, BEK) }, { browserExamKeys: [], configKeys: [] }),
    ).toMatchObject({ reason: 'no-allowed-keys' });
  });

  it('accepts allowed keys written in upper case', () => {
    const upper = { browserExamKeys: [BEK.toUpperCase()], configKeys: [] };
    expect(checkSebHeaders({ url: URL_, requestHash: requestHash(URL_, BEK) }, upper)).toMatchObject({ ok: true });
  });
});

describe('the exam examinees receive', () => {
  it('carries neither the SEB quit password nor the allowed keys', () => {
    const exam = makeExam({
      settings: { safeExamBrowser: { required: true, browserExamKeys: [BEK], quitPassword: 'secret-quit' } },
    });
    const sent = examForExaminees(exam);
    expect(sent.settings.safeExamBrowser).toBeUndefined();
    expect(JSON.stringify(sent)).not.toContain('secret-quit');
    expect(JSON.stringify(sent)).not.toContain(BEK);
    expect(sent.settings.lockOnReload).toBe(exam.settings.lockOnReload);
  });
});
