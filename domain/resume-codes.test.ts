import { hmac } from '@noble/hashes/hmac.js';
import { pbkdf2 } from '@noble/hashes/pbkdf2.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { CODE_ALPHABET } from './exam-format.js';
import {
  CHALLENGE_BITS,
  CHALLENGE_LENGTH,
  challengeFor,
  challengesFor,
  deriveResumeKey,
  encodeCrockford,
  findChallenge,
  formatChallenge,
  formatResumeCode,
  isResumeCodeFor,
  parseChallenge,
  parseResumeCode,
  pbkdf2Sha256Js,
  RESUME_CHALLENGES_PER_EXAMINEE,
  RESUME_CODE_BITS,
  RESUME_CODE_LENGTH,
  RESUME_PBKDF2_ITERATIONS,
  resumeCodeFor,
  saltFor,
  tripleFor,
  verifyResumeCodeOffline,
  type Pbkdf2Sha256,
} from './resume-codes.js';
import { EXAM_ID, seededRandomBytes, STUDENT_ID } from '../tests/support/fixtures.js';

/** Few iterations where many triples are made; one test below uses the real count. */
const FAST = 64;
const alphabetOnly = (n: number) => new RegExp(`^[${CODE_ALPHABET}]{${n}}$`);

/** Random examinees on random appliances: each case is one resume key, exam and student. */
function cases(seed: number, count: number) {
  const random = seededRandomBytes(seed);
  const id = (prefix: string) => `${prefix}-${bytesToHex(random(4))}`;
  return Array.from({ length: count }, () => {
    const examId = id('EXAM');
    return { resumeKey: deriveResumeKey(random(32), examId), examId, studentId: id('s') };
  });
}

/** Typed variants of a code: case, dashes, spaces, and O/I/L for 0/1. */
function typedVariants(code: string): string[] {
  const formatted = code.length === CHALLENGE_LENGTH ? formatChallenge(code) : formatResumeCode(code);
  return [
    code,
    formatted,
    formatted.toLowerCase(),
    ` ${code.split('').join(' ')} `,
    code.replace(/0/g, 'O').replace(/1/g, 'I'),
    code.toLowerCase().replace(/0/g, 'o').replace(/1/g, 'l'),
    formatted.replace(/1/g, 'L'),
  ];
}

/** Counts calls to a PBKDF2. */
function counting(inner: Pbkdf2Sha256): Pbkdf2Sha256 & { calls: number } {
  const f = Object.assign(
    (p: Uint8Array, s: Uint8Array, i: number, l: number) => {
      f.calls++;
      return inner(p, s, i, l);
    },
    { calls: 0 },
  );
  return f;
}

describe('the numbers', () => {
  it('gives challenges of at least 40 bits and resume codes of at least 40 bits (50)', () => {
    expect(CODE_ALPHABET).toHaveLength(32); // 5 bits per character
    expect(CHALLENGE_BITS).toBe(CHALLENGE_LENGTH * 5);
    expect(CHALLENGE_BITS).toBeGreaterThanOrEqual(40);
    expect(RESUME_CODE_BITS).toBe(RESUME_CODE_LENGTH * 5);
    expect(RESUME_CODE_BITS).toBeGreaterThanOrEqual(40);
    expect(RESUME_CODE_BITS).toBe(50);
    expect(RESUME_PBKDF2_ITERATIONS).toBeGreaterThanOrEqual(100_000);
    expect(RESUME_CHALLENGES_PER_EXAMINEE).toBe(8);
  });

  it('uses every bit: each character of challenges and codes is spread over the whole alphabet', () => {
    const seen = Array.from({ length: RESUME_CODE_LENGTH }, () => new Map<string, number>());
    const count = (text: string) => [...text].forEach((ch, i) => seen[i]!.set(ch, (seen[i]!.get(ch) ?? 0) + 1));
    const all = cases(7, 400);
    for (const { resumeKey, examId, studentId } of all) {
      const c = challengeFor(resumeKey, examId, studentId, 0);
      count(c);
      count(resumeCodeFor(resumeKey, examId, studentId, c));
    }
    // 800 samples for challenge positions (25 per character expected), 400 for the last two.
    for (const [i, position] of seen.entries()) {
      expect(position.size, `position ${i}`).toBe(32);
      for (const n of position.values()) expect(n).toBeLessThan(i < CHALLENGE_LENGTH ? 60 : 35);
    }
  });

  it('never repeats a challenge across many examinees, exams and indexes', () => {
    const all = new Set<string>();
    let made = 0;
    for (const { resumeKey, examId, studentId } of cases(11, 250)) {
      for (const c of challengesFor(resumeKey, examId, studentId)) {
        all.add(c);
        made++;
      }
    }
    expect(all.size).toBe(made);
  });
});

describe('encodeCrockford', () => {
  it('reads 5 bits at a time, most significant first', () => {
    // 0 1 2 ... 7 packed into 40 bits.
    const groups = [0, 1, 2, 3, 4, 5, 6, 7];
    let bits = 0n;
    for (const g of groups) bits = (bits << 5n) | BigInt(g);
    const bytes = Uint8Array.from({ length: 5 }, (_, i) => Number((bits >> BigInt(8 * (4 - i))) & 0xffn));
    expect(encodeCrockford(bytes, 8)).toBe('01234567');
    expect(encodeCrockford(new Uint8Array(7).fill(0xff), 11)).toBe('ZZZZZZZZZZZ');
    expect(encodeCrockford(Uint8Array.from([0b10000100, 0b00100000]), 3)).toBe('GGG');
    expect(() => encodeCrockford(new Uint8Array(5), 9)).toThrow(RangeError);
  });
});

describe('deriveResumeKey', () => {
  it('is HMAC-SHA256(sessionKey, "resume-key/v1|" + examId), different per exam', () => {
    const sessionKey = seededRandomBytes(1)(32);
    const key = deriveResumeKey(sessionKey, EXAM_ID);
    expect(bytesToHex(key)).toBe(bytesToHex(hmac(sha256, sessionKey, utf8ToBytes(`resume-key/v1|${EXAM_ID}`))));
    expect(bytesToHex(deriveResumeKey(sessionKey, 'CHEM-200'))).not.toBe(bytesToHex(key));
    expect(bytesToHex(deriveResumeKey(seededRandomBytes(2)(32), EXAM_ID))).not.toBe(bytesToHex(key));
  });

  it('refuses ids that would make two inputs collide', () => {
    const key = deriveResumeKey(new Uint8Array(32), EXAM_ID);
    expect(() => deriveResumeKey(new Uint8Array(32), 'a|b')).toThrow(TypeError);
    expect(() => challengeFor(key, EXAM_ID, 'x|0', 0)).toThrow(TypeError);
    expect(() => challengeFor(key, EXAM_ID, STUDENT_ID, 8)).toThrow(RangeError);
    expect(() => challengeFor(key, EXAM_ID, STUDENT_ID, -1)).toThrow(RangeError);
    expect(() => challengeFor(key, EXAM_ID, STUDENT_ID, 1.5)).toThrow(RangeError);
  });
});

describe('challenges', () => {
  it('are 8 characters of the alphabet, deterministic, and found again from any typed form', () => {
    for (const { resumeKey, examId, studentId } of cases(21, 100)) {
      const challenges = challengesFor(resumeKey, examId, studentId);
      expect(challenges).toHaveLength(RESUME_CHALLENGES_PER_EXAMINEE);
      expect(challenges).toEqual(challengesFor(resumeKey, examId, studentId));
      challenges.forEach((c, i) => {
        expect(c).toMatch(alphabetOnly(CHALLENGE_LENGTH));
        expect(challengeFor(resumeKey, examId, studentId, i)).toBe(c);
        for (const typed of typedVariants(c)) {
          expect(parseChallenge(typed)).toBe(c);
          expect(findChallenge(resumeKey, examId, studentId, typed)).toBe(i);
        }
      });
    }
  });

  it('belong to one examinee of one exam on one appliance', () => {
    const [a, b] = cases(31, 2) as [ReturnType<typeof cases>[number], ReturnType<typeof cases>[number]];
    const mine = challengesFor(a.resumeKey, a.examId, a.studentId);
    const otherStudent = challengesFor(a.resumeKey, a.examId, `${a.studentId}x`);
    const otherExamKey = deriveResumeKey(seededRandomBytes(31)(32), 'OTHER-EXAM');
    const otherExam = challengesFor(otherExamKey, 'OTHER-EXAM', a.studentId);
    const otherAppliance = challengesFor(b.resumeKey, a.examId, a.studentId);
    for (const c of [...otherStudent, ...otherExam, ...otherAppliance]) {
      expect(mine).not.toContain(c);
      expect(findChallenge(a.resumeKey, a.examId, a.studentId, c)).toBeUndefined();
    }
  });

  it('are not found from malformed text', () => {
    const [{ resumeKey, examId, studentId }] = cases(41, 1) as [ReturnType<typeof cases>[number]];
    const c = challengeFor(resumeKey, examId, studentId, 3);
    for (const bad of ['', c.slice(0, 7), `${c}0`, c.replace(/./, 'U'), `${c}!`, 'x'.repeat(10_000)]) {
      expect(parseChallenge(bad)).toBeUndefined();
      expect(findChallenge(resumeKey, examId, studentId, bad)).toBeUndefined();
    }
  });

  it('are shown in two groups of four', () => {
    expect(formatChallenge('K7QH3M9P')).toBe('K7QH-3M9P');
    expect(formatChallenge('k7qh 3m9p')).toBe('K7QH-3M9P');
  });
});

describe('resume codes', () => {
  it('are 10 characters of the alphabet, shown in two groups of five, read back from any typed form', () => {
    for (const { resumeKey, examId, studentId } of cases(51, 100)) {
      const challenge = challengeFor(resumeKey, examId, studentId, 0);
      const code = resumeCodeFor(resumeKey, examId, studentId, challenge);
      expect(code).toMatch(alphabetOnly(RESUME_CODE_LENGTH));
      expect(formatResumeCode(code)).toMatch(/^[0-9A-Z]{5}-[0-9A-Z]{5}$/);
      expect(resumeCodeFor(resumeKey, examId, studentId, formatChallenge(challenge).toLowerCase())).toBe(code);
      for (const typed of typedVariants(code)) {
        expect(parseResumeCode(typed)).toBe(code);
        expect(isResumeCodeFor(resumeKey, examId, studentId, challenge, typed)).toBe(true);
      }
    }
  });

  it('work for their own challenge only: not another index, examinee, exam or appliance', () => {
    for (const [{ resumeKey, examId, studentId }, other] of pairs(cases(61, 60))) {
      const challenges = challengesFor(resumeKey, examId, studentId);
      const codes = challenges.map((c) => resumeCodeFor(resumeKey, examId, studentId, c));
      expect(new Set(codes).size).toBe(codes.length);
      challenges.forEach((c, i) => {
        codes.forEach((code, j) => expect(isResumeCodeFor(resumeKey, examId, studentId, c, code)).toBe(i === j));
      });
      const c0 = challenges[0]!;
      const code0 = codes[0]!;
      // Another examinee's or another exam's code for their own challenge does not open mine.
      const theirChallenge = challengeFor(resumeKey, examId, other.studentId, 0);
      const theirCode = resumeCodeFor(resumeKey, examId, other.studentId, theirChallenge);
      expect(isResumeCodeFor(resumeKey, examId, studentId, c0, theirCode)).toBe(false);
      const otherExamKey = deriveResumeKey(other.resumeKey, other.examId);
      const otherExamCode = resumeCodeFor(
        otherExamKey,
        other.examId,
        studentId,
        challengeFor(otherExamKey, other.examId, studentId, 0),
      );
      expect(isResumeCodeFor(resumeKey, examId, studentId, c0, otherExamCode)).toBe(false);
      // My code is not the code for the same challenge text under another examinee, exam or key.
      expect(resumeCodeFor(resumeKey, examId, other.studentId, c0)).not.toBe(code0);
      expect(resumeCodeFor(resumeKey, other.examId, studentId, c0)).not.toBe(code0);
      expect(resumeCodeFor(other.resumeKey, examId, studentId, c0)).not.toBe(code0);
    }
  });

  it('refuse malformed and one-character-off codes', () => {
    const [{ resumeKey, examId, studentId }] = cases(71, 1) as [ReturnType<typeof cases>[number]];
    const c = challengeFor(resumeKey, examId, studentId, 0);
    const code = resumeCodeFor(resumeKey, examId, studentId, c);
    for (let i = 0; i < code.length; i++) {
      const next = CODE_ALPHABET[(CODE_ALPHABET.indexOf(code[i]!) + 1) % 32]!;
      expect(isResumeCodeFor(resumeKey, examId, studentId, c, code.slice(0, i) + next + code.slice(i + 1))).toBe(false);
    }
    for (const bad of ['', code.slice(0, 9), `${code}0`, code.replace(/./, 'U'), 'x'.repeat(10_000)]) {
      expect(parseResumeCode(bad)).toBeUndefined();
      expect(isResumeCodeFor(resumeKey, examId, studentId, c, bad)).toBe(false);
    }
  });
});

describe('triples and offline verification', () => {
  it('hold the challenge, a 16-byte salt and the PBKDF2-HMAC-SHA256 of the normalised code', async () => {
    const [{ resumeKey, examId, studentId }] = cases(81, 1) as [ReturnType<typeof cases>[number]];
    const triples = await Promise.all(
      Array.from({ length: RESUME_CHALLENGES_PER_EXAMINEE }, (_, i) =>
        tripleFor(resumeKey, examId, studentId, i, pbkdf2Sha256Js, FAST),
      ),
    );
    triples.forEach((t, i) => {
      const code = resumeCodeFor(resumeKey, examId, studentId, t.challenge);
      expect(t.challenge).toBe(challengeFor(resumeKey, examId, studentId, i));
      expect(t.salt).toMatch(/^[0-9a-f]{32}$/);
      expect(t.salt).toBe(bytesToHex(saltFor(resumeKey, examId, studentId, i)));
      expect(t.iterations).toBe(FAST);
      expect(t.hash).toBe(
        bytesToHex(pbkdf2(sha256, utf8ToBytes(code), saltFor(resumeKey, examId, studentId, i), { c: FAST, dkLen: 32 })),
      );
    });
    expect(new Set(triples.map((t) => t.salt)).size).toBe(triples.length);
    // Deterministic: the appliance makes the same triples after a restart.
    expect(await tripleFor(resumeKey, examId, studentId, 5, pbkdf2Sha256Js, FAST)).toEqual(triples[5]);
  });

  it('let the device accept the right code in any typed form, and only for its own challenge', async () => {
    for (const [{ resumeKey, examId, studentId }, other] of pairs(cases(91, 12))) {
      const mine = await tripleFor(resumeKey, examId, studentId, 2, pbkdf2Sha256Js, FAST);
      const code = resumeCodeFor(resumeKey, examId, studentId, mine.challenge);
      for (const typed of typedVariants(code)) {
        expect(await verifyResumeCodeOffline(mine, typed, pbkdf2Sha256Js)).toBe(true);
      }
      const wrongs = [
        // the code of my next challenge
        resumeCodeFor(resumeKey, examId, studentId, challengeFor(resumeKey, examId, studentId, 3)),
        // another examinee's code for their challenge 2
        resumeCodeFor(resumeKey, examId, other.studentId, challengeFor(resumeKey, examId, other.studentId, 2)),
        // a code for my challenge text made with another exam's key
        resumeCodeFor(other.resumeKey, other.examId, studentId, mine.challenge),
        // one character off
        code.slice(0, -1) + (code.endsWith('0') ? '1' : '0'),
      ];
      for (const wrong of wrongs) expect(await verifyResumeCodeOffline(mine, wrong, pbkdf2Sha256Js)).toBe(false);
    }
  });

  it('does not run PBKDF2 for malformed text', async () => {
    const [{ resumeKey, examId, studentId }] = cases(101, 1) as [ReturnType<typeof cases>[number]];
    const triple = await tripleFor(resumeKey, examId, studentId, 0, pbkdf2Sha256Js, FAST);
    const kdf = counting(pbkdf2Sha256Js);
    for (const bad of ['', 'ABCDE', 'ABCDE-1234U', '?'.repeat(100_000)]) {
      expect(await verifyResumeCodeOffline(triple, bad, kdf)).toBe(false);
    }
    expect(kdf.calls).toBe(0);
  });

  it('works at the real iteration count (what the device pays once per typed code)', async () => {
    const [{ resumeKey, examId, studentId }] = cases(111, 1) as [ReturnType<typeof cases>[number]];
    const kdf = counting(pbkdf2Sha256Js);
    const triple = await tripleFor(resumeKey, examId, studentId, 0, kdf);
    expect(triple.iterations).toBe(RESUME_PBKDF2_ITERATIONS);
    const code = formatResumeCode(resumeCodeFor(resumeKey, examId, studentId, triple.challenge));
    expect(await verifyResumeCodeOffline(triple, code, kdf)).toBe(true);
    expect(kdf.calls).toBe(2);
  });
});

/** Each case with the next one (wrapping), for "mine vs someone else's". */
function pairs<T>(list: T[]): [T, T][] {
  return list.map((x, i) => [x, list[(i + 1) % list.length]!]);
}
