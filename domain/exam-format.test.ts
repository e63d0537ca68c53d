import { describe, expect, it } from 'vitest';
import { MINUTE } from './clock.js';
import { refuse, ERRORS } from './errors.js';
import { examDocId, examFileSchema, examineeDocId } from './exam-format.js';
import { DOWNLOAD_OPENS, examInput, makeExam, START, type ExamFileInput } from '../tests/support/fixtures.js';

type QuestionInput = ExamFileInput['sections'][number]['questions'][number];

const iso = (ms: number) => new Date(ms).toISOString();

/** The messages of a failed parse, by path. */
function issues(input: unknown): string[] {
  const r = examFileSchema.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('examFileSchema', () => {
  it('applies the defaults hall staff rely on', () => {
    const exam = makeExam();
    expect(exam.settings).toEqual({
      lockOnReload: true,
      requireFullscreen: false,
      lobbyMinutes: 30,
      acceptSubmissionsUntil: 'upload-deadline',
      submissionGraceSeconds: 60,
      maxAnswerFileBytes: 5 * 1024 * 1024,
      hardwareChecks: [],
      // No snapshots unless the exam asks; a device without a camera is reported, not held back.
      proctoring: { type: 'none', intervalSeconds: 60, cameraRequired: false },
    });
    const questions = exam.sections.flatMap((s) => s.questions);
    expect(questions.find((q) => q.id === 'q-multi')).toMatchObject({ scoring: 'all-or-nothing' });
    expect(questions.find((q) => q.id === 'q-num-exact')).toMatchObject({ answerKey: { value: 0.3, tolerance: 0 } });
    expect(questions.find((q) => q.id === 'q-short-cs')).toMatchObject({ maxLength: 200 });
    expect(questions.find((q) => q.id === 'q-file')).toMatchObject({ maxFiles: 1, maxBytes: 20 * 1024 * 1024 });
  });

  it('refuses a download window that closes before it opens or opens after the start', () => {
    expect(issues(examInput({ downloadWindow: { opens: iso(START), closes: iso(START) } }))).toContain(
      'downloadWindow.closes: must be after downloadWindow.opens',
    );
    expect(
      issues(examInput({ downloadWindow: { opens: iso(START + MINUTE), closes: iso(START + 2 * MINUTE) } })),
    ).toContain('downloadWindow.opens: must not be after scheduledStart');
  });

  it('refuses an upload deadline before the end of the exam; exactly at the end is fine', () => {
    expect(issues(examInput({ uploadDeadline: iso(START + 90 * MINUTE) }))).toEqual([]);
    expect(issues(examInput({ uploadDeadline: iso(START + 90 * MINUTE - 1000) }))[0]).toMatch(/^uploadDeadline:/);
  });

  it('refuses duplicate ids, answer keys that are not options, unknown fields and times without a zone', () => {
    const q: QuestionInput = { id: 'q1', type: 'true-false', prompt: 'p', points: 1 };
    expect(issues(examInput({ sections: [{ id: 's', title: 'S', questions: [q, q] }] }))).toContain(
      'sections.0.questions.1.id: duplicate id "q1"',
    );
    const badKey: QuestionInput = {
      id: 'q2',
      type: 'single-choice',
      prompt: 'p',
      points: 1,
      options: [
        { id: 'a', text: 'A' },
        { id: 'b', text: 'B' },
      ],
      answerKey: 'z',
    };
    expect(issues(examInput({ sections: [{ id: 's', title: 'S', questions: [badKey] }] }))).toContain(
      'sections.0.questions.0.answerKey: "z" is not one of the options',
    );
    expect(issues({ ...examInput(), surprise: true })).not.toEqual([]);
    expect(issues(examInput({ scheduledStart: '2026-06-01T09:00:00' }))).not.toEqual([]);
    expect(issues(examInput({ scheduledStart: '2026-06-01T11:00:00+02:00' }))).toEqual([]);
    expect(DOWNLOAD_OPENS).toBeLessThan(START);
  });
});

describe('document ids and errors', () => {
  it('derives deterministic ids', () => {
    expect(examDocId('BIO-101')).toBe('exam:BIO-101');
    expect(examineeDocId('BIO-101', 's-1')).toBe('examinee:BIO-101:s-1');
  });

  it('builds refusals with and without detail, for codes that exist', () => {
    expect(refuse('exam-time-over')).toEqual({ ok: false, code: 'exam-time-over' });
    expect(refuse('invalid-answer-file', 'why')).toEqual({ ok: false, code: 'invalid-answer-file', detail: 'why' });
    for (const { status } of Object.values(ERRORS)) expect(status).toBeGreaterThanOrEqual(400);
  });
});
