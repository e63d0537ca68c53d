import { describe, expect, it } from 'vitest';
import { accessCodeHash, constantTimeEqualHex } from './access-code.js';
import { sha256HexOfText } from './canonical.js';
import { CODE_ALPHABET, generateAccessCode, normaliseAccessCode, rosterEntrySchema } from './exam-format.js';
import { EXAM_ID, seededRandomBytes, STUDENT_ID } from '../tests/support/fixtures.js';

const CODE = '7K3M-9QXF-1T0A';

describe('accessCodeHash', () => {
  it('is the SHA-256 of the versioned, exam- and student-bound text', () => {
    expect(accessCodeHash(EXAM_ID, STUDENT_ID, CODE)).toBe(
      sha256HexOfText(`access-code/v1|${EXAM_ID}|${STUDENT_ID}|7K3M9QXF1T0A`),
    );
  });

  it.each([
    ['lower case', '7k3m-9qxf-1t0a'],
    ['no dashes', '7K3M9QXF1T0A'],
    ['spaces', ' 7K3M 9QXF 1T0A '],
    ['O for 0', '7K3M-9QXF-1TOA'],
    ['o for 0', '7k3m9qxf1toa'],
    ['I for 1', '7K3M-9QXF-IT0A'],
    ['L for 1', '7K3M-9QXF-LT0A'],
    ['l for 1', '7k3m-9qxf-lt0a'],
  ])('gives the same hash with %s', (_what, typed) => {
    expect(accessCodeHash(EXAM_ID, STUDENT_ID, typed)).toBe(accessCodeHash(EXAM_ID, STUDENT_ID, CODE));
  });

  it('gives a different hash for another student, another exam or another code', () => {
    const mine = accessCodeHash(EXAM_ID, STUDENT_ID, CODE);
    expect(accessCodeHash(EXAM_ID, 's-1002', CODE)).not.toBe(mine);
    expect(accessCodeHash('CHEM-200', STUDENT_ID, CODE)).not.toBe(mine);
    expect(accessCodeHash(EXAM_ID, STUDENT_ID, '7K3M-9QXF-1T0B')).not.toBe(mine);
  });
});

describe('normaliseAccessCode', () => {
  it('upper-cases, strips spaces and dashes, and reads O as 0 and I/L as 1', () => {
    expect(normaliseAccessCode(' ab-cd\tolI ')).toBe('ABCD011');
  });

  it('is what the roster import stores', () => {
    const entry = rosterEntrySchema.parse({
      studentId: STUDENT_ID,
      name: 'Ada Lovelace',
      accessCode: '7k3m-9qxf-1toa',
    });
    expect(entry.accessCode).toBe('7K3M9QXF1T0A');
    expect(() => rosterEntrySchema.parse({ studentId: STUDENT_ID, name: 'Ada', accessCode: 'SHORT' })).toThrow();
    expect(() => rosterEntrySchema.parse({ studentId: STUDENT_ID, name: 'Ada', accessCode: 'UUUUUUUUUU' })).toThrow();
  });
});

describe('generateAccessCode', () => {
  const alphabetOnly = new RegExp(`^[${CODE_ALPHABET}]+$`);

  it('uses Crockford base32: 32 characters with no I, L, O or U', () => {
    expect(CODE_ALPHABET).toHaveLength(32);
    expect(new Set(CODE_ALPHABET).size).toBe(32);
    expect(CODE_ALPHABET).not.toMatch(/[ILOU]/);
  });

  it('makes codes of the alphabet only, 12 characters by default, from the given random source', () => {
    const random = seededRandomBytes(20260601);
    for (let i = 0; i < 200; i++) {
      const code = generateAccessCode(random);
      expect(code).toHaveLength(12);
      expect(code).toMatch(alphabetOnly);
      // A generated code survives normalisation unchanged and passes the roster's own check.
      expect(normaliseAccessCode(code)).toBe(code);
      expect(rosterEntrySchema.parse({ studentId: 's-1', name: 'N', accessCode: code }).accessCode).toBe(code);
    }
    expect(generateAccessCode(seededRandomBytes(1), 20)).toHaveLength(20);
  });

  it('is deterministic for a seeded source and differs between seeds', () => {
    expect(generateAccessCode(seededRandomBytes(42))).toBe(generateAccessCode(seededRandomBytes(42)));
    expect(generateAccessCode(seededRandomBytes(42))).not.toBe(generateAccessCode(seededRandomBytes(43)));
  });

  it('maps every byte value into the alphabet, each character equally often', () => {
    const everyByte = (n: number) => Uint8Array.from({ length: n }, (_, i) => i % 256);
    const code = generateAccessCode(everyByte, 256);
    expect(code).toMatch(alphabetOnly);
    for (const ch of CODE_ALPHABET) expect(code.split(ch).length - 1).toBe(8);
  });

  it('asks the random source for exactly as many bytes as characters', () => {
    const asked: number[] = [];
    generateAccessCode((n) => {
      asked.push(n);
      return new Uint8Array(n);
    }, 16);
    expect(asked).toEqual([16]);
  });
});

describe('constantTimeEqualHex', () => {
  it('compares hex strings', () => {
    const h = accessCodeHash(EXAM_ID, STUDENT_ID, CODE);
    expect(constantTimeEqualHex(h, accessCodeHash(EXAM_ID, STUDENT_ID, '7k3m9qxf1toa'))).toBe(true);
    expect(constantTimeEqualHex(h, accessCodeHash(EXAM_ID, 's-1002', CODE))).toBe(false);
    expect(constantTimeEqualHex(h, h.slice(0, -1))).toBe(false);
    expect(constantTimeEqualHex('', '')).toBe(true);
  });
});
