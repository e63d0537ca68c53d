import { describe, expect, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
import {
  ANSWER_FILE_FORMAT,
  answerFileSchema,
  answerFileSha256,
  answeredCount,
  answersFitExam,
  canonicalAnswerFile,
  countWords,
  examForExaminees,
  examQuestions,
  gradeClosedQuestions,
  gradeQuestion,
  isCanonicalAnswerFileText,
  serialiseAnswerFile,
  type AnswerFile,
  type AnswerValue,
} from './answers.js';
import { sha256HexOfText } from './canonical.js';
import { EXAM_ID, makeExam, STUDENT_ID } from '../tests/support/fixtures.js';
import { seededChoices, type SeededChoices } from './seeded-random.js';

const exam = makeExam();
const PDF = { sha256: 'c'.repeat(64), name: 'lab-report.pdf', size: 123_456 };

function answerFile(answers: Record<string, AnswerValue>, more: Partial<AnswerFile> = {}): AnswerFile {
  return answerFileSchema.parse({
    format: ANSWER_FILE_FORMAT,
    examId: EXAM_ID,
    studentId: STUDENT_ID,
    answers,
    ...more,
  });
}

const question = (id: string) => {
  const q = examQuestions(exam).find((x) => x.id === id);
  if (!q) throw new Error(`no question ${id} in the fixture`);
  return q;
};

describe('answerFileSchema', () => {
  it('checks exactly the answer-file types of answer-types.ts', () => {
    // A compile-time check (npm run typecheck): the types are written out for the examinee's
    // device, which loads them without the schema library.
    expectTypeOf<z.output<typeof answerFileSchema>>().toEqualTypeOf<AnswerFile>();
  });
});

describe('canonicalAnswerFile', () => {
  it('sorts and de-duplicates multiple-choice ids and flagged questions', () => {
    const c = canonicalAnswerFile(answerFile({ 'q-multi': ['c', 'a', 'c'] }, { flagged: ['q-tf', 'q-essay', 'q-tf'] }));
    expect(c.answers['q-multi']).toEqual(['a', 'c']);
    expect(c.flagged).toEqual(['q-essay', 'q-tf']);
  });

  it('drops empty answers but keeps false and 0', () => {
    const c = canonicalAnswerFile(
      answerFile({ 'q-short': '', 'q-essay': '  \n ', 'q-multi': [], 'q-file': [], 'q-tf': false, 'q-num': 0 }),
    );
    expect(c.answers).toEqual({ 'q-tf': false, 'q-num': 0 });
  });

  it('NFC-normalises text answers', () => {
    const c = canonicalAnswerFile(answerFile({ 'q-essay': 'Cafe\u0301 osmosis' }));
    expect(c.answers['q-essay']).toBe('Caf\u00e9 osmosis');
  });

  it('keeps file references as they are', () => {
    const other = { sha256: 'd'.repeat(64), name: 'b.pdf', size: 1 };
    const c = canonicalAnswerFile(answerFile({ 'q-file': [PDF, other] }));
    expect(c.answers['q-file']).toEqual([PDF, other]);
  });

  it('does not change the file it is given', () => {
    const f = answerFile({ 'q-multi': ['c', 'a'] });
    canonicalAnswerFile(f);
    expect(f.answers['q-multi']).toEqual(['c', 'a']);
  });
});

describe('serialiseAnswerFile / answerFileSha256', () => {
  const answers: Record<string, AnswerValue> = {
    'q-single': 'b',
    'q-multi': ['c', 'a'],
    'q-tf': true,
    'q-num': 3.14,
    'q-essay': 'Water moves across membranes.',
  };

  it('gives the same SHA-256 for the same answers in another key order', () => {
    const reordered: Record<string, AnswerValue> = {};
    for (const k of Object.keys(answers).reverse()) reordered[k] = answers[k] as AnswerValue;
    expect(Object.keys(reordered)).not.toEqual(Object.keys(answers));
    expect(answerFileSha256(answerFile(reordered))).toBe(answerFileSha256(answerFile(answers)));
  });

  it('gives the same SHA-256 for other multiple-choice order, NFD text, empty answers and flag order', () => {
    const a = answerFile(answers, { flagged: ['q-tf', 'q-num'] });
    const b = answerFile(
      { ...answers, 'q-multi': ['a', 'c'], 'q-short': '   ', 'q-file': [] },
      { flagged: ['q-num', 'q-tf', 'q-num'] },
    );
    expect(answerFileSha256(b)).toBe(answerFileSha256(a));
    expect(answerFileSha256(answerFile({ 'q-essay': 'Caf\u00e9' }))).toBe(
      answerFileSha256(answerFile({ 'q-essay': 'Cafe\u0301' })),
    );
  });

  it('gives another SHA-256 when an answer changes', () => {
    expect(answerFileSha256(answerFile({ ...answers, 'q-single': 'a' }))).not.toBe(
      answerFileSha256(answerFile(answers)),
    );
  });

  it('serialises as canonical JSON with sorted keys, and hashes exactly those bytes', () => {
    const f = answerFile({ 'q-tf': true, 'q-multi': ['c', 'a'] });
    const text = serialiseAnswerFile(f);
    expect(text).toBe(
      `{"answers":{"q-multi":["a","c"],"q-tf":true},"examId":"${EXAM_ID}","flagged":[],"format":"answers/v1","studentId":"${STUDENT_ID}"}`,
    );
    expect(answerFileSha256(f)).toBe(sha256HexOfText(text));
    // What is submitted parses back into the same canonical file.
    expect(canonicalAnswerFile(answerFileSchema.parse(JSON.parse(text)))).toEqual(canonicalAnswerFile(f));
  });
});

describe('answersFitExam', () => {
  const ok = { ok: true };
  const fit = (answers: Record<string, AnswerValue>, more: Partial<AnswerFile> = {}) =>
    answersFitExam(answerFile(answers, more), exam, STUDENT_ID);
  const refused = (detail: string | RegExp) => ({
    ok: false,
    code: 'invalid-answer-file',
    detail: expect.stringMatching(detail),
  });

  it('accepts a complete, well-formed answer file', () => {
    expect(
      fit(
        {
          'q-single': 'b',
          'q-multi': ['a', 'c'],
          'q-multi-partial': ['a'],
          'q-tf': false,
          'q-num': -2.5,
          'q-num-exact': 0.3,
          'q-short': 'Paris',
          'q-short-cs': 'NaCl',
          'q-essay': 'one two three four five',
          'q-file': [PDF],
          'q-nokey': 'x',
        },
        { flagged: ['q-essay'] },
      ),
    ).toEqual(ok);
    expect(fit({})).toEqual(ok);
  });

  it('refuses a file of another exam or another student', () => {
    expect(answersFitExam(answerFile({}, { examId: 'CHEM-200' }), exam, STUDENT_ID)).toEqual(refused(/examId/));
    expect(answersFitExam(answerFile({}, { studentId: 's-9999' }), exam, STUDENT_ID)).toEqual(refused(/studentId/));
  });

  it('refuses an answer to an unknown question, and an unknown flagged question', () => {
    expect(fit({ 'q-404': 'a' })).toEqual(refused(/"q-404" is not a question/));
    expect(fit({}, { flagged: ['q-404'] })).toEqual(refused(/flagged "q-404"/));
    // A section id is not a question id.
    expect(fit({ 'part-1': 'a' })).toEqual(refused(/"part-1" is not a question/));
  });

  it.each<[string, AnswerValue]>([
    ['q-single', true],
    ['q-single', ['b']],
    ['q-multi', 'a'],
    ['q-tf', 'true'],
    ['q-tf', 1],
    ['q-num', '3.14'],
    ['q-short', 42],
    ['q-essay', ['a']],
    ['q-file', 'lab-report.pdf'],
    ['q-file', ['a']],
  ])('refuses a wrong type: %s = %j', (id, value) => {
    expect(fit({ [id]: value })).toEqual(refused(new RegExp(`"${id}" does not fit`)));
  });

  it('refuses an option that is not in the question', () => {
    expect(fit({ 'q-single': 'd' })).toEqual(refused(/"q-single" does not fit a single-choice/));
    expect(fit({ 'q-multi': ['a', 'e'] })).toEqual(refused(/"q-multi" does not fit a multiple-choice/));
    // 'x' is an option of another question, not of this one.
    expect(fit({ 'q-single': 'x' })).toEqual(refused(/"q-single"/));
  });

  it('keeps an essay over its word limit: the limit is the examinee’s to keep, never a refusal', () => {
    // q-essay allows 5 words: a refusal here would stop every autosave of the examinee.
    expect(countWords('  one two\nthree\tfour   five ')).toBe(5);
    expect(fit({ 'q-essay': 'one two three four five' })).toEqual(ok);
    expect(fit({ 'q-essay': 'one two three four five six seven' })).toEqual(ok);
  });

  it('refuses a short text over its maximum length; exactly at it is fine', () => {
    expect(fit({ 'q-short': 'x'.repeat(20) })).toEqual(ok);
    expect(fit({ 'q-short': 'x'.repeat(21) })).toEqual(refused(/"q-short"/));
  });

  it('refuses a file with the wrong extension, no extension, too many files, or too large', () => {
    expect(fit({ 'q-file': [{ ...PDF, name: 'REPORT.PDF' }] })).toEqual(ok);
    expect(fit({ 'q-file': [{ ...PDF, name: 'report.docx' }] })).toEqual(ok);
    expect(fit({ 'q-file': [{ ...PDF, name: 'report.exe' }] })).toEqual(refused(/"q-file" does not fit a file/));
    expect(fit({ 'q-file': [{ ...PDF, name: 'report.pdf.exe' }] })).toEqual(refused(/"q-file"/));
    expect(fit({ 'q-file': [{ ...PDF, name: 'report' }] })).toEqual(refused(/"q-file"/));
    expect(fit({ 'q-file': [PDF, { ...PDF, name: 'second.pdf' }] })).toEqual(refused(/"q-file"/));
    expect(fit({ 'q-file': [{ ...PDF, size: 20 * 1024 * 1024 }] })).toEqual(ok);
    expect(fit({ 'q-file': [{ ...PDF, size: 20 * 1024 * 1024 + 1 }] })).toEqual(refused(/"q-file"/));
  });

  it('lets empty answers through whatever the type (they are dropped from the canonical form)', () => {
    expect(fit({ 'q-tf': '', 'q-num': [], 'q-single': '  ' })).toEqual(ok);
  });
});

describe('answeredCount', () => {
  it('counts non-empty answers to questions of the exam', () => {
    expect(answeredCount(exam, {})).toEqual({ answered: 0, total: 11 });
    expect(
      answeredCount(exam, { 'q-single': 'b', 'q-tf': false, 'q-num': 0, 'q-essay': ' ', 'q-multi': [], 'q-404': 'a' }),
    ).toEqual({ answered: 3, total: 11 });
  });
});

describe('gradeClosedQuestions', () => {
  const grade = (id: string, v: AnswerValue | undefined) => gradeQuestion(question(id), v);

  it('single-choice: full points for the key, else 0', () => {
    expect(grade('q-single', 'b')).toBe(1);
    expect(grade('q-single', 'a')).toBe(0);
    expect(grade('q-single', undefined)).toBe(0);
  });

  it('true-false: full points for the key, else 0 (also for the string "true")', () => {
    expect(grade('q-tf', true)).toBe(1);
    expect(grade('q-tf', false)).toBe(0);
    expect(grade('q-tf', 'true')).toBe(0);
  });

  it('numeric: within the tolerance, inclusive of its edge; exact keys survive floating point', () => {
    expect(grade('q-num', 3.14159)).toBe(2);
    expect(grade('q-num', 3.14)).toBe(2);
    expect(grade('q-num', 3.14159 + 0.005)).toBe(2);
    expect(grade('q-num', 3.14159 - 0.005)).toBe(2);
    expect(grade('q-num', 3.147)).toBe(0);
    expect(grade('q-num', 3.136)).toBe(0);
    expect(grade('q-num', '3.14159')).toBe(0);
    expect(grade('q-num-exact', 0.1 + 0.2)).toBe(1);
    expect(grade('q-num-exact', 0.31)).toBe(0);
  });

  it('short-text: case-insensitive by default, ignoring surrounding and repeated whitespace', () => {
    expect(grade('q-short', 'Paris')).toBe(1);
    expect(grade('q-short', '  pARIS \n')).toBe(1);
    expect(grade('q-short', 'ville   de\tparis')).toBe(1);
    expect(grade('q-short', 'Lyon')).toBe(0);
    expect(grade('q-short', 'Par is')).toBe(0);
    expect(grade('q-short', 42)).toBe(0);
  });

  it('short-text: case-sensitive when the key says so', () => {
    expect(grade('q-short-cs', 'NaCl')).toBe(1);
    expect(grade('q-short-cs', ' NaCl ')).toBe(1);
    expect(grade('q-short-cs', 'nacl')).toBe(0);
    expect(grade('q-short-cs', 'NACL')).toBe(0);
  });

  it('multiple-choice all-or-nothing: only exactly the right set scores', () => {
    expect(question('q-multi')).toMatchObject({ scoring: 'all-or-nothing' });
    expect(grade('q-multi', ['c', 'a'])).toBe(2);
    expect(grade('q-multi', ['a', 'c', 'a'])).toBe(2);
    expect(grade('q-multi', ['a'])).toBe(0);
    expect(grade('q-multi', ['a', 'c', 'd'])).toBe(0);
    expect(grade('q-multi', [])).toBe(0);
    expect(grade('q-multi', undefined)).toBe(0);
  });

  it('multiple-choice partial: per right option minus per wrong one, never negative', () => {
    // 3 points over 3 right options: 1 each.
    expect(grade('q-multi-partial', ['a', 'b', 'c'])).toBe(3);
    expect(grade('q-multi-partial', ['a', 'b'])).toBe(2);
    expect(grade('q-multi-partial', ['a', 'b', 'c', 'd'])).toBe(2);
    expect(grade('q-multi-partial', ['a', 'd'])).toBe(0);
    expect(grade('q-multi-partial', ['a', 'd', 'e'])).toBe(0);
    expect(grade('q-multi-partial', ['d', 'e'])).toBe(0);
    expect(grade('q-multi-partial', [])).toBe(0);
    expect(grade('q-multi-partial', 'a')).toBe(0);
  });

  it('essay, file and questions without a key are not graded', () => {
    expect(grade('q-essay', 'anything')).toBeUndefined();
    expect(grade('q-file', [PDF])).toBeUndefined();
    expect(grade('q-nokey', 'x')).toBeUndefined();
  });

  it('adds up the closed questions only', () => {
    const all = gradeClosedQuestions(exam, {
      'q-single': 'b',
      'q-multi': ['a', 'c'],
      'q-multi-partial': ['a', 'b'],
      'q-tf': false,
      'q-num': 3.14,
      'q-num-exact': 0.3,
      'q-short': 'paris',
      'q-short-cs': 'nacl',
      'q-essay': 'text',
      'q-file': [PDF],
      'q-nokey': 'x',
    });
    expect(all.maxScore).toBe(1 + 2 + 3 + 1 + 2 + 1 + 1 + 1);
    expect(all.byQuestion).toEqual({
      'q-single': 1,
      'q-multi': 2,
      'q-multi-partial': 2,
      'q-tf': 0,
      'q-num': 2,
      'q-num-exact': 1,
      'q-short': 1,
      'q-short-cs': 0,
    });
    expect(all.score).toBe(9);
    expect(gradeClosedQuestions(exam, {})).toMatchObject({ score: 0, maxScore: 12 });
  });

  it('rounds the total to hundredths', () => {
    const thirds = makeExam({
      sections: [
        {
          id: 's',
          title: 'S',
          questions: [
            {
              id: 'm',
              type: 'multiple-choice',
              prompt: 'p',
              points: 1,
              scoring: 'partial',
              options: [
                { id: 'a', text: 'A' },
                { id: 'b', text: 'B' },
                { id: 'c', text: 'C' },
              ],
              answerKey: ['a', 'b', 'c'],
            },
          ],
        },
      ],
    });
    expect(gradeClosedQuestions(thirds, { m: ['a'] }).score).toBe(0.33);
    expect(gradeClosedQuestions(thirds, { m: ['a', 'b'] }).score).toBe(0.67);
  });
});

describe('examForExaminees', () => {
  it('contains no answer key anywhere, and nothing a key reveals', () => {
    const sent = JSON.stringify(examForExaminees(exam));
    expect(sent).not.toContain('answerKey');
    expect(sent).not.toContain('3.14159');
    expect(sent).not.toContain('Ville de Paris');
    expect(sent).not.toContain('caseSensitive');
    expect(sent).not.toContain('tolerance');
  });

  it('keeps everything else and leaves the original exam untouched', () => {
    const sent = examForExaminees(exam);
    expect(examQuestions(sent).map((q) => q.id)).toEqual(examQuestions(exam).map((q) => q.id));
    expect(sent).toMatchObject({ examId: exam.examId, scheduledStart: exam.scheduledStart, settings: exam.settings });
    expect(question('q-single')).toMatchObject({ answerKey: 'b' });
    expect(examQuestions(sent).find((q) => q.id === 'q-single')).toEqual({
      id: 'q-single',
      type: 'single-choice',
      prompt: 'Which organelle makes ATP?',
      points: 1,
      options: [
        { id: 'a', text: 'Nucleus' },
        { id: 'b', text: 'Mitochondrion' },
        { id: 'c', text: 'Ribosome' },
      ],
    });
  });
});

/** Characters that matter to canonical form and word counts: spaces of every kind, NFC pairs, escapes. */
const TRICKY = [
  'a',
  'b',
  'Z',
  '1',
  ' ',
  '\t',
  '\n',
  '\r',
  '\v',
  '\f',
  '\u00a0',
  '\u1680',
  '\u2000',
  '\u200a',
  '\u200b',
  '\u2028',
  '\u2029',
  '\u202f',
  '\u205f',
  '\u3000',
  '\ufeff',
  '\u180e',
  '\u0085',
  'e\u0301',
  '\u00e9',
  '\u212b',
  'A\u030a',
  '"',
  '\\',
  '\u0000',
  '\u001f',
  '\ud83d\ude00',
  '\ud800',
  '\udc00',
  '\u4e2d',
];

describe('countWords', () => {
  it('counts what splitting the trimmed text on \\s would, for every kind of space (1,000 seeded texts)', () => {
    const splitCount = (text: string) => {
      const t = text.trim();
      return t === '' ? 0 : t.split(/\s+/u).length;
    };
    const r = seededChoices(7);
    for (let i = 0; i < 1_000; i++) {
      const text = Array.from({ length: r.int(40) }, () => r.pick(TRICKY)).join('');
      expect(countWords(text), JSON.stringify(text)).toBe(splitCount(text));
    }
  });
});

describe('isCanonicalAnswerFileText', () => {
  const base = (): Record<string, unknown> => ({
    format: ANSWER_FILE_FORMAT,
    examId: EXAM_ID,
    studentId: STUDENT_ID,
    answers: {},
    flagged: [],
  });

  /** A random answer file as a client might send it: keys in any order, values canonical or not. */
  function randomFile(r: SeededChoices): Record<string, unknown> {
    const answers: Record<string, unknown> = {};
    const ids = ['q-single', 'q-multi', 'q-tf', 'q-num', 'q-short', 'q-essay', 'q-file', '10', '9', 'a', 'B'];
    for (let n = r.int(6); n > 0; n--) {
      const id = r.pick(ids);
      switch (r.int(7)) {
        case 0:
          answers[id] = Array.from({ length: r.int(12) }, () => r.pick(TRICKY)).join('');
          break;
        case 1:
          answers[id] = Array.from({ length: r.int(4) }, () => r.pick(['a', 'b', 'c', 'B']));
          break;
        case 2:
          answers[id] = r.next() < 0.5;
          break;
        case 3:
          answers[id] = r.pick([0, -0, 1.5, 23, 1e21, -3]);
          break;
        case 4:
          answers[id] = [r.next() < 0.5 ? { ...PDF } : { size: PDF.size, name: PDF.name, sha256: PDF.sha256 }];
          break;
        case 5:
          answers[id] = r.pick(['', '   ', []]);
          break;
        default:
          answers[id] = 'x'.repeat(r.int(3_000));
      }
    }
    const file = {
      ...base(),
      answers,
      flagged: Array.from({ length: r.int(3) }, () => r.pick(['q-tf', 'q-num', 'a'])),
    };
    if (r.next() < 0.3) {
      const reordered: Record<string, unknown> = {};
      for (const k of Object.keys(file).reverse()) reordered[k] = file[k as keyof typeof file];
      return reordered;
    }
    return file;
  }

  /** Texts for a file: JSON.stringify's, the canonical one, and small changes of it. */
  function textsOf(raw: Record<string, unknown>, r: SeededChoices): string[] {
    const parsed = answerFileSchema.safeParse(raw);
    const texts = [JSON.stringify(raw), JSON.stringify(raw, null, 1)];
    if (parsed.success) {
      const canonical = serialiseAnswerFile(parsed.data);
      texts.push(canonical, canonical.replace('"answers":{', '"answers":{ '), canonical.replace(/:0([,}])/u, ':0.0$1'));
      texts.push(
        canonical.replace(/\u00e9/gu, '\\u00e9'),
        canonical.replace('"flagged":[]', '"flagged":[],"flagged":[]'),
      );
      if (r.next() < 0.5) texts.push(canonical.replace(/"a"/u, '"\\u0061"'));
    }
    return texts;
  }

  it('says what comparing with serialiseAnswerFile says, for 3,000 seeded files and texts', () => {
    const r = seededChoices(42);
    let canonicalSeen = 0;
    let refusedSeen = 0;
    for (let i = 0; i < 3_000; i++) {
      for (const text of textsOf(randomFile(r), r)) {
        let raw: unknown;
        try {
          raw = JSON.parse(text);
        } catch {
          continue;
        }
        const parsed = answerFileSchema.safeParse(raw);
        if (!parsed.success) continue;
        const expected = serialiseAnswerFile(parsed.data) === text;
        expect(isCanonicalAnswerFileText(text, raw, parsed.data), text).toBe(expected);
        if (expected) canonicalSeen++;
        else refusedSeen++;
      }
    }
    // Both answers were exercised, many times.
    expect(canonicalSeen).toBeGreaterThan(1_000);
    expect(refusedSeen).toBeGreaterThan(1_000);
  });

  it('accepts a canonical file with every kind of answer, and refuses each non-canonical variant', () => {
    const file = answerFile({
      'q-single': 'b',
      'q-multi': ['c', 'a'],
      'q-tf': false,
      'q-num': -2.5,
      'q-essay': 'Cafe\u0301 au lait',
      'q-file': [PDF],
    });
    const canonical = serialiseAnswerFile(file);
    const check = (text: string) =>
      isCanonicalAnswerFileText(text, JSON.parse(text), answerFileSchema.parse(JSON.parse(text)));
    expect(check(canonical)).toBe(true);
    const { format, ...rest } = JSON.parse(canonical) as Record<string, unknown>;
    expect(check(JSON.stringify({ format, ...rest }))).toBe(false); // keys out of order
    expect(check(canonical.replace('"a","c"', '"c","a"'))).toBe(false); // choices not sorted
    expect(check(canonical.replace('"a","c"', '"a","a","c"'))).toBe(false); // repeated choice
    expect(check(canonical.replace('Caf\u00e9', 'Cafe\u0301'))).toBe(false); // not NFC
    expect(
      check(
        canonical
          .replace('"name":"lab-report.pdf","sha256"', '"sha256"')
          .replace(',"size"', ',"name":"lab-report.pdf","size"'),
      ),
    ).toBe(false);
    expect(check(canonical.replace('"q-essay"', '"q-blank":"  ","q-essay"'))).toBe(false); // an empty answer
    expect(check(canonical.replace(',"flagged":[]', ''))).toBe(false); // flagged left out
  });
});
