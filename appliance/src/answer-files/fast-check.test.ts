import { isUtf8 } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { serialiseAnswerFile, type AnswerFile, type AnswerValue } from '../../../domain/answers.js';
import { countWords } from '../../../domain/answer-sheet.js';
import { examFileSchema } from '../../../domain/exam-format.js';
import { examInput, STUDENT_ID } from '../../../tests/support/fixtures.js';
import { checkAnswerFile, fullCheckAnswerFile } from './check.js';
import { fastCheckAnswerFile } from './fast-check.js';
import { seededChoices, type SeededChoices } from '../../../domain/seeded-random.js';

const base = examInput();
const exam = examFileSchema.parse({
  ...base,
  sections: [
    ...base.sections,
    {
      id: 'part-2',
      title: 'Part 2',
      questions: [
        { id: 'q-essay-free', type: 'essay', prompt: 'Write.', points: 10 },
        { id: 'q-essay-limit', type: 'essay', prompt: 'Write less.', points: 10, maxWords: 3_000 },
      ],
    },
  ],
});
const PDF = { sha256: 'c'.repeat(64), name: 'lab-report.pdf', size: 123_456 };

/** Pieces of essays: plain words, Latin-1, spaces and JSON.stringify's escapes (the fast path's). */
const PLAIN = [
  'osmosis ',
  'water ',
  'moves',
  ' ',
  '  ',
  '\n',
  '\t',
  '\r\n',
  '"quoted" ',
  'back\\slash ',
  'café ',
  'Ærø ',
  '\u00a0',
  '\u00ad',
  '\u0085',
  '\f',
  '\b',
  'x'.repeat(300),
  'ñ'.repeat(200),
  'word '.repeat(120),
];
/** And what it leaves to the full check: \u escapes, other scripts, NFD, other spaces. */
const TRICKY = ['\u000b', '\u0001', 'e\u0301', '\u4e2d\u6587 ', '\u2003', '\u3000', '\ud83d\ude00', '\u212b'];

function essay(r: SeededChoices, long: boolean): string {
  const pieces = r.next() < 0.7 ? PLAIN : [...PLAIN, ...TRICKY];
  return Array.from({ length: long ? 40 + r.int(400) : r.int(8) }, () => r.pick(pieces)).join('');
}

function answerFor(id: string, r: SeededChoices): AnswerValue {
  switch (id) {
    case 'q-single':
      return r.pick(['a', 'b', 'c', 'd', 'z']);
    case 'q-multi':
    case 'q-multi-partial':
      return Array.from({ length: 1 + r.int(4) }, () => r.pick(['a', 'b', 'c', 'd', 'e']));
    case 'q-tf':
      return r.next() < 0.5;
    case 'q-num':
    case 'q-num-exact':
      return r.pick([3.14, 0.3, -0, 1e21, 0.1 + 0.2, 42, -7.5]);
    case 'q-short':
    case 'q-short-cs':
      return r.pick(['Paris', ' paris ', 'NaCl', 'Caf\u00e9', 'Cafe\u0301', 'x'.repeat(25)]);
    case 'q-file':
      return [r.next() < 0.8 ? PDF : { ...PDF, name: 'report.exe' }];
    case 'q-nokey':
      return r.pick(['x', 'y']);
    default:
      return essay(r, id !== 'q-essay' && r.next() < 0.8);
  }
}

/** A canonical answer file of STUDENT_ID for `exam` with these answers and nothing flagged. */
const fileWith = (answers: Record<string, AnswerValue>) =>
  Buffer.from(
    serialiseAnswerFile({ format: 'answers/v1', examId: exam.examId, studentId: STUDENT_ID, answers, flagged: [] }),
  );

const IDS = exam.sections.flatMap((s) => s.questions.map((q) => q.id));

function randomFile(r: SeededChoices): AnswerFile {
  const answers: Record<string, AnswerValue> = {};
  for (const id of IDS) if (r.next() < 0.6) answers[id] = answerFor(id, r);
  return {
    format: 'answers/v1',
    examId: exam.examId,
    studentId: r.next() < 0.95 ? STUDENT_ID : 's-2002',
    answers,
    flagged: Array.from({ length: r.int(3) }, () => r.pick(IDS)),
  };
}

/** Small changes to canonical bytes: a byte changed, inserted or removed, whitespace, a key renamed. */
function mutate(bytes: Buffer, r: SeededChoices): Buffer {
  const at = r.int(bytes.length);
  switch (r.int(5)) {
    case 0:
      return Buffer.concat([bytes.subarray(0, at), Buffer.from([r.int(256)]), bytes.subarray(at + 1)]);
    case 1:
      return Buffer.concat([
        bytes.subarray(0, at),
        Buffer.from(r.pick([' ', '\\', '"', ',', '0', 'é', '\\u0041'])),
        bytes.subarray(at),
      ]);
    case 2:
      return Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1)]);
    case 3:
      return Buffer.from(
        bytes
          .toString('utf8')
          .replace(
            r.pick(['"q-tf"', '"a"', ':3.14', '"flagged":[', 'true']),
            r.pick(['"q-tf" ', '"A"', ':3.140', '"flagged":[ ', 'True']),
          ),
      );
    default:
      return Buffer.from(bytes.toString('utf8').replace(/\\n/u, '\\u000a'));
  }
}

describe('fastCheckAnswerFile', () => {
  // FAST_CHECK_SEED=<n> runs other files and mutations (8 seeds were run when this was written).
  it('accepts only what the full check accepts, with the same summary (seeded files and mutations)', () => {
    const r = seededChoices(Number(process.env.FAST_CHECK_SEED ?? 2026));
    let fast = 0;
    let full = 0;
    let refusedByBoth = 0;
    for (let i = 0; i < 1_500; i++) {
      const canonical = Buffer.from(serialiseAnswerFile(randomFile(r)));
      for (const bytes of [canonical, mutate(canonical, r), mutate(mutate(canonical, r), r)]) {
        if (!isUtf8(bytes)) continue;
        const quick = fastCheckAnswerFile(bytes, exam, STUDENT_ID);
        const verdict = fullCheckAnswerFile(bytes, exam, STUDENT_ID);
        if (quick) {
          fast++;
          expect(verdict, bytes.toString('utf8').slice(0, 300)).toEqual({ ok: true, summary: quick });
        }
        if (verdict.ok) full++;
        else refusedByBoth++;
        // And the check itself says what the full check says.
        expect(checkAnswerFile(bytes, exam, STUDENT_ID)).toEqual(verdict);
      }
    }
    // The fast path is the one that usually decides, and both answers were exercised.
    expect(fast).toBeGreaterThan(full * 0.5);
    expect(refusedByBoth).toBeGreaterThan(1_000);
  });

  it('takes a 200 KB essay of plain text, Latin-1 and escapes without the full check', () => {
    const text = `${'Entropy measures the number of microstates.\n'.repeat(3_400)}${'é'.repeat(27_000)}`;
    const bytes = Buffer.from(
      serialiseAnswerFile({
        format: 'answers/v1',
        examId: exam.examId,
        studentId: STUDENT_ID,
        answers: { 'q-essay-free': text, 'q-tf': true, 'q-multi': ['c', 'a'] },
        flagged: ['q-tf'],
      }),
    );
    expect(bytes.length).toBeGreaterThan(200_000);
    const quick = fastCheckAnswerFile(bytes, exam, STUDENT_ID);
    expect(quick).toBeDefined();
    expect(fullCheckAnswerFile(bytes, exam, STUDENT_ID)).toEqual({ ok: true, summary: quick });
  });

  it('leaves to the full check: a long string that is not an essay, other scripts', () => {
    // Over the word limit: kept (the limit refuses nothing), by both checks alike.
    const overLimit = fileWith({ 'q-essay-limit': 'word '.repeat(3_001) });
    expect(fastCheckAnswerFile(overLimit, exam, STUDENT_ID)).toEqual(
      (fullCheckAnswerFile(overLimit, exam, STUDENT_ID) as { summary: unknown }).summary,
    );
    const atLimit = fileWith({ 'q-essay-limit': 'word '.repeat(3_000) });
    expect(fastCheckAnswerFile(atLimit, exam, STUDENT_ID)).toBeDefined();
    const longShort = fileWith({ 'q-short': 'Paris '.repeat(100) });
    expect(fastCheckAnswerFile(longShort, exam, STUDENT_ID)).toBeUndefined();
    const cjk = fileWith({ 'q-essay-free': '\u4e2d\u6587'.repeat(200) });
    expect(fastCheckAnswerFile(cjk, exam, STUDENT_ID)).toBeUndefined();
    expect(checkAnswerFile(cjk, exam, STUDENT_ID).ok).toBe(true);
  });

  // The scan reads four bytes at a time where it can: a word or a character miscounted at one of
  // those seams would only show at the limits, so each limit is tried exactly, at every alignment.
  it('counts words and characters exactly at the limits, wherever the essay falls in the file', () => {
    const r = seededChoices(Number(process.env.FAST_CHECK_SEED ?? 7));
    const withLimit = (maxWords: number) =>
      examFileSchema.parse({
        ...exam,
        sections: exam.sections.map((s) => ({
          ...s,
          questions: s.questions.map((q) => (q.id === 'q-essay-limit' ? { ...q, maxWords } : q)),
        })),
      });
    for (let i = 0; i < 300; i++) {
      // A short answer of 1–8 characters before the essay moves it across the four-byte seams.
      const shift = 'P'.repeat(1 + (i % 8));
      const text = Array.from({ length: 60 + r.int(200) }, () => r.pick(PLAIN)).join('');
      if (text.trim() === '') continue;
      const words = countWords(text);
      const bytes = fileWith({ 'q-short': shift, 'q-essay-limit': text });
      const atLimit = withLimit(words);
      expect(fastCheckAnswerFile(bytes, atLimit, STUDENT_ID), JSON.stringify(text)).toEqual(
        (fullCheckAnswerFile(bytes, atLimit, STUDENT_ID) as { summary: unknown }).summary,
      );
      // Over the word limit: kept all the same (never refused), and both checks say so.
      const overLimit = withLimit(Math.max(1, words - 1));
      expect(fastCheckAnswerFile(bytes, overLimit, STUDENT_ID), JSON.stringify(text)).toEqual(
        (fullCheckAnswerFile(bytes, overLimit, STUDENT_ID) as { summary: unknown }).summary,
      );
    }
    // The 200,000-character limit (UTF-16 code units) in ASCII, Latin-1 and both, at each alignment.
    for (let shift = 1; shift <= 8; shift++) {
      for (const [ascii, latin1] of [
        [200_000, 0],
        [0, 200_000],
        [123_457, 76_543],
      ] as const) {
        const text = `${'ab c'.repeat(ascii / 4 + 1).slice(0, ascii)}${'éÿ'.repeat(latin1 / 2 + 1).slice(0, latin1)}`;
        expect(text.length).toBe(200_000);
        const at = fileWith({ 'q-short': 'P'.repeat(shift), 'q-essay-free': text });
        expect(fastCheckAnswerFile(at, exam, STUDENT_ID)).toBeDefined();
        const over = fileWith({ 'q-short': 'P'.repeat(shift), 'q-essay-free': `${text}x` });
        expect(fastCheckAnswerFile(over, exam, STUDENT_ID)).toBeUndefined();
        expect(fullCheckAnswerFile(over, exam, STUDENT_ID).ok).toBe(false);
      }
    }
  });
});
