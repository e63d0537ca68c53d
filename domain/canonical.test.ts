import { describe, expect, it } from 'vitest';
import { canonicalJson, hashJson, sha256Hex, sha256HexOfText, type Json } from './canonical.js';

describe('canonicalJson', () => {
  it('sorts object keys, at every depth, and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: 2, c: { z: true, y: null } })).toBe('{"a":2,"b":1,"c":{"y":null,"z":true}}');
    expect(canonicalJson([3, 1, 2, { b: [], a: {} }])).toBe('[3,1,2,{"a":{},"b":[]}]');
  });

  it('gives the same text for the same value built in a different key order', () => {
    const one: Json = { examId: 'E', answers: { q2: 'b', q1: ['c', 'a'] }, n: 1 };
    const other: Json = { n: 1, answers: { q1: ['c', 'a'], q2: 'b' }, examId: 'E' };
    expect(canonicalJson(one)).toBe(canonicalJson(other));
    expect(hashJson(one)).toBe(hashJson(other));
  });

  it('sorts keys by UTF-16 code unit, not by locale or code point', () => {
    // 'B' (0x42) < 'a' (0x61) < 'é' (0xE9) < '😀' (0xD83D …) < '\uFFFF'; by code point '😀' would come last.
    const value: Json = { '\uffff': 5, '😀': 4, é: 3, a: 2, B: 1 };
    expect(canonicalJson(value)).toBe('{"B":1,"a":2,"é":3,"😀":4,"\uffff":5}');
  });

  it('drops undefined members, also nested, but keeps null', () => {
    expect(canonicalJson({ a: undefined, b: null, c: { d: undefined, e: 1 } })).toBe('{"b":null,"c":{"e":1}}');
  });

  it('writes scalars as JSON.stringify does, with no whitespace', () => {
    expect(canonicalJson(null)).toBe('null');
    expect(canonicalJson(true)).toBe('true');
    expect(canonicalJson(0.1)).toBe('0.1');
    expect(canonicalJson(-0)).toBe('0');
    expect(canonicalJson(1e21)).toBe('1e+21');
    expect(canonicalJson('line\nbreak "quoted" \\')).toBe('"line\\nbreak \\"quoted\\" \\\\"');
    expect(canonicalJson({})).toBe('{}');
    expect(canonicalJson([])).toBe('[]');
  });

  it('keeps unicode text as is (no NFC here) and escapes lone surrogates', () => {
    expect(canonicalJson({ name: 'Zoë Ångström 日本' })).toBe('{"name":"Zoë Ångström 日本"}');
    expect(canonicalJson('e\u0301')).toBe('"e\u0301"');
    expect(canonicalJson('\ud800')).toBe('"\\ud800"');
  });

  it('throws on non-finite numbers, also nested', () => {
    expect(() => canonicalJson(Number.NaN)).toThrow(TypeError);
    expect(() => canonicalJson(Number.POSITIVE_INFINITY)).toThrow(TypeError);
    expect(() => canonicalJson({ a: [1, Number.NEGATIVE_INFINITY] })).toThrow('non-finite');
  });
});

describe('sha256', () => {
  it('matches the FIPS 180-2 test vectors', () => {
    expect(sha256HexOfText('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256HexOfText('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256HexOfText('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).toBe(
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    );
  });

  it('hashes bytes and the UTF-8 bytes of text alike', () => {
    expect(sha256Hex(new Uint8Array([0x61, 0x62, 0x63]))).toBe(sha256HexOfText('abc'));
    expect(sha256Hex(new Uint8Array([0xc3, 0xa9]))).toBe(sha256HexOfText('\u00e9'));
    expect(sha256HexOfText('\u00e9')).toBe('4a99557e4033c3539de2eb65472017cad5f9557f7a0625a09f1c3f6e2ba69c4c');
    // The decomposed form is other bytes, so another hash: normalise before hashing where it matters.
    expect(sha256HexOfText('e\u0301')).not.toBe(sha256HexOfText('\u00e9'));
  });

  it('hashJson is the SHA-256 of the canonical text', () => {
    expect(hashJson({ a: 1 })).toBe('015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862');
    expect(hashJson({ a: 1, b: undefined })).toBe(hashJson({ a: 1 }));
  });
});
