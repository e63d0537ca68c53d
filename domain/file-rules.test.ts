import { describe, expect, it } from 'vitest';
import { examQuestions } from './answers.js';
import { FakeClock, MINUTE } from './clock.js';
import { examineeTimeline } from './exam-clock.js';
import { decideAnswerFiles, decideFileUpload } from './exam-day-rules.js';
import type { NewEvent } from './events.js';
import { EV, foldEvents, makeExam, START, STUDENT_ID, TestChain } from '../tests/support/fixtures.js';

const exam = makeExam();
const timeline = examineeTimeline(exam, 0);
const fileQuestion = examQuestions(exam).find((q) => q.id === 'q-file');
const choiceQuestion = examQuestions(exam).find((q) => q.id === 'q-single');
const SHA = 'c'.repeat(64);
const pdf = { name: 'report.PDF', sha256: SHA, size: 1_000 };

const uploaded = (questionId = 'q-file', sha256 = SHA, size = 1_000): NewEvent => ({
  kind: 'file-uploaded',
  actor: { role: 'examinee', studentId: STUDENT_ID },
  studentId: STUDENT_ID,
  data: { questionId, sha256, size, name: 'report.pdf' },
});

function stateAfter(...events: NewEvent[]) {
  const chain = new TestChain();
  const clock = new FakeClock(START - 50 * MINUTE);
  for (const e of events) {
    chain.append(clock.now(), e);
    clock.advance(1_000);
  }
  return foldEvents(chain.events);
}

const started = stateAfter(EV.signedIn(), EV.downloaded(), EV.started());
const withFile = stateAfter(EV.signedIn(), EV.downloaded(), EV.started(), uploaded());
const now = START + 10 * MINUTE;

describe('decideFileUpload', () => {
  it('accepts a file of an accepted extension (any case) during the exam', () => {
    expect(decideFileUpload(started, timeline, fileQuestion, pdf, now)).toEqual({ ok: true, action: 'accept' });
  });
  it('treats the same file again as a replay', () => {
    expect(decideFileUpload(withFile, timeline, fileQuestion, pdf, now)).toEqual({ ok: true, action: 'replay' });
  });
  it('refuses before the examinee started, after submitting and after the deadline with grace', () => {
    expect(decideFileUpload(stateAfter(EV.signedIn()), timeline, fileQuestion, pdf, now)).toMatchObject({
      code: 'not-started-by-examinee',
    });
    const submitted = stateAfter(EV.signedIn(), EV.downloaded(), EV.started(), EV.submitted(1, 'a'.repeat(64)));
    expect(decideFileUpload(submitted, timeline, fileQuestion, pdf, now)).toMatchObject({ code: 'already-submitted' });
    expect(decideFileUpload(started, timeline, fileQuestion, pdf, timeline.graceEnd)).toMatchObject({ ok: true });
    expect(decideFileUpload(started, timeline, fileQuestion, pdf, timeline.graceEnd + 1)).toMatchObject({
      code: 'exam-time-over',
    });
  });
  it('refuses other question types, unknown questions, wrong extensions and oversize files', () => {
    expect(decideFileUpload(started, timeline, choiceQuestion, pdf, now)).toMatchObject({ code: 'validation-failed' });
    expect(decideFileUpload(started, timeline, undefined, pdf, now)).toMatchObject({ code: 'validation-failed' });
    expect(decideFileUpload(started, timeline, fileQuestion, { ...pdf, name: 'report.exe' }, now)).toMatchObject({
      code: 'validation-failed',
    });
    expect(decideFileUpload(started, timeline, fileQuestion, { ...pdf, name: 'report' }, now)).toMatchObject({
      code: 'validation-failed',
    });
    const max = fileQuestion?.type === 'file' ? fileQuestion.maxBytes : 0;
    expect(decideFileUpload(started, timeline, fileQuestion, { ...pdf, size: max }, now)).toMatchObject({ ok: true });
    expect(decideFileUpload(started, timeline, fileQuestion, { ...pdf, size: max + 1 }, now)).toMatchObject({
      code: 'payload-too-large',
    });
  });
  it('caps the number of uploads per question', () => {
    const many = Array.from({ length: 5 }, (_, i) => uploaded('q-file', i.toString(16).padStart(64, '0')));
    const full = stateAfter(EV.signedIn(), EV.downloaded(), EV.started(), ...many);
    expect(decideFileUpload(full, timeline, fileQuestion, pdf, now)).toMatchObject({ code: 'validation-failed' });
  });
});

describe('decideAnswerFiles', () => {
  const ref = { sha256: SHA, size: 1_000, name: 'report.pdf' };
  it('accepts answers naming files the examinee uploaded for that question', () => {
    expect(decideAnswerFiles(withFile, { 'q-file': [ref], 'q-single': 'a' })).toEqual({ ok: true });
  });
  it('refuses a file not uploaded by this examinee, for another question, or with another size', () => {
    expect(decideAnswerFiles(started, { 'q-file': [ref] })).toMatchObject({ code: 'file-not-found' });
    expect(decideAnswerFiles(withFile, { 'q-other': [ref] })).toMatchObject({ code: 'file-not-found' });
    expect(decideAnswerFiles(withFile, { 'q-file': [{ ...ref, size: 999 }] })).toMatchObject({
      code: 'file-not-found',
    });
  });
});
