import { createHash } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serialiseAnswerFile } from '../../../domain/answers.js';
import { makeTempDir } from '../../../tests/support/appliance-process.js';
import { testExam } from '../../../tests/support/appliance.js';
import { checkAnswerFile } from './check.js';
import { inThreadAnswerFileChecker, WorkerAnswerFileChecker, type AnswerFileChecker } from './checker.js';

const exam = testExam(Date.parse('2026-06-01T09:00:00Z'));
const PDF = { sha256: 'c'.repeat(64), name: 'report.pdf', size: 1_234 };
const canonical = (answers: Record<string, unknown>, studentId = 'S1') =>
  serialiseAnswerFile({
    format: 'answers/v1',
    examId: exam.examId,
    studentId,
    answers: answers as never,
    flagged: [],
  });

/** Answer files a client may send, good and bad, with what the check must say. */
const CASES: { name: string; bytes: Buffer; ok: boolean; message?: RegExp }[] = [
  {
    name: 'canonical',
    bytes: Buffer.from(canonical({ q1: 'a', q2: true, q3: 23, q4: 'Caf\u00e9 '.repeat(40_000) })),
    ok: true,
  },
  {
    name: 'not UTF-8',
    bytes: Buffer.from([...Buffer.from(canonical({ q1: 'a' })).subarray(0, 20), 0xff, 0xfe]),
    ok: false,
    message: /UTF-8/,
  },
  // Replaced with U+FFFD, the lenient decoding of a lone byte 0xE9 would be canonical text.
  {
    name: 'a lone Latin-1 byte in a string',
    bytes: Buffer.concat([
      Buffer.from(canonical({ q4: 'Caf' }).slice(0, -17)),
      Buffer.from([0xe9]),
      Buffer.from(canonical({ q4: 'Caf' }).slice(-17)),
    ]),
    ok: false,
    message: /UTF-8/,
  },
  { name: 'byte order mark', bytes: Buffer.from(`\ufeff${canonical({ q1: 'a' })}`), ok: false, message: /not JSON/ },
  { name: 'not JSON', bytes: Buffer.from('{"format":'), ok: false, message: /not JSON/ },
  {
    name: '__proto__ member',
    bytes: Buffer.from(canonical({ q1: 'a' }).replace('"q1"', '"__proto__":{},"q1"')),
    ok: false,
    message: /__proto__/,
  },
  { name: 'another examinee', bytes: Buffer.from(canonical({ q1: 'a' }, 'S2')), ok: false, message: /studentId/ },
  {
    name: 'not canonical',
    bytes: Buffer.from(JSON.stringify(JSON.parse(canonical({ q1: 'a' })), null, 2)),
    ok: false,
    message: /canonical/,
  },
  { name: 'unknown question', bytes: Buffer.from(canonical({ nope: 'a' })), ok: false, message: /"nope"/ },
];

describe('checkAnswerFile', () => {
  it('says what each case needs', () => {
    for (const c of CASES) {
      const verdict = checkAnswerFile(c.bytes, exam, 'S1');
      expect(verdict.ok, c.name).toBe(c.ok);
      if (!verdict.ok) expect(verdict.detail, c.name).toMatch(c.message!);
    }
  });

  it('keeps the score, the answered count and the answers naming files', () => {
    const exam5 = { ...exam, sections: [{ ...exam.sections[0]!, questions: [...exam.sections[0]!.questions] }] };
    exam5.sections[0]!.questions.push({
      id: 'q9',
      type: 'file',
      prompt: 'Upload your report',
      points: 1,
      accept: ['pdf'],
      maxFiles: 1,
      maxBytes: 10_000,
    } as never);
    const verdict = checkAnswerFile(Buffer.from(canonical({ q1: 'a', q2: false, q9: [PDF] })), exam5, 'S1');
    expect(verdict).toEqual({
      ok: true,
      summary: { fileAnswers: { q9: [PDF] }, score: 2, maxScore: 4, answered: 3, total: 6 },
    });
  });
});

describe('answer-file checkers', () => {
  let dir: string;
  const files: { path: string; size: number; ok: boolean }[] = [];

  beforeAll(async () => {
    dir = await makeTempDir('proctor-answer-check-');
    for (const [i, c] of CASES.entries()) {
      const file = path.join(dir, `case-${i}`);
      await writeFile(file, c.bytes);
      files.push({ path: file, size: c.bytes.length, ok: c.ok });
    }
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const checkAll = async (checker: AnswerFileChecker) => {
    const verdicts = await Promise.all(
      // Every case several times at once: the jobs interleave on the workers.
      [...files, ...files, ...files].map((f) => checker.check({ ...f, exam, studentId: 'S1' })),
    );
    return verdicts.map((v) => v.verdict.ok);
  };
  const expected = () => [...files, ...files, ...files].map((f) => f.ok);

  it('in this thread and on worker threads, the same verdicts', async () => {
    expect(await checkAll(inThreadAnswerFileChecker())).toEqual(expected());
    const errors: Error[] = [];
    const workers = new WorkerAnswerFileChecker({ workers: 2, onWorkerError: (e) => errors.push(e) });
    try {
      expect(await checkAll(workers)).toEqual(expected());
      // A second exam object (an update) reaches the workers too.
      const updated = { ...exam };
      const v = await workers.check({ ...files[0]!, exam: updated, studentId: 'S1' });
      expect(v.verdict.ok).toBe(true);
      // The worker hashes what it read: the SHA-256 the submission is named by.
      expect(v.sha256).toBe(createHash('sha256').update(CASES[0]!.bytes).digest('hex'));
    } finally {
      await workers.close();
    }
    expect(errors).toEqual([]);
  });

  it('checks on the main thread when a worker fails, and for files larger than a worker takes', async () => {
    // The smallest heap a worker gets, far too small for a 240 KB essay: it runs out of memory.
    // (A smaller one asked for is raised to it: below it the whole process would abort.)
    const errors: Error[] = [];
    const failing = new WorkerAnswerFileChecker({ workers: 1, heapMb: 1, onWorkerError: (e) => errors.push(e) });
    try {
      expect(await checkAll(failing)).toEqual(expected());
    } finally {
      await failing.close();
    }
    expect(errors.length).toBeGreaterThan(0);
    const small = new WorkerAnswerFileChecker({ workers: 1, maxWorkerFileBytes: 10 });
    try {
      expect(await checkAll(small)).toEqual(expected());
    } finally {
      await small.close();
    }
  });

  it('reports a temp file that is not the size received', async () => {
    const errors: Error[] = [];
    const workers = new WorkerAnswerFileChecker({ workers: 1, onWorkerError: (e) => errors.push(e) });
    try {
      const verdict = await workers.check({ path: files[0]!.path, size: files[0]!.size + 1, exam, studentId: 'S1' });
      // The main thread's check then reads the file as it is.
      expect(verdict.verdict.ok).toBe(true);
      expect(errors.map((e) => e.message).join()).toMatch(/not \d+/);
    } finally {
      await workers.close();
    }
  });
});
