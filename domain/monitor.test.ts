import { describe, expect, it } from 'vitest';
import { MINUTE } from './clock.js';
import { examineeTimeline } from './exam-clock.js';
import { initialExamWideState } from './exam-state.js';
import type { ExamineeDoc } from './exam-format.js';
import { participantRow, queryRows, statusCounts, trackingTotals, type ParticipantRow } from './monitor.js';
import { EV, foldEvents, makeExam, START, STUDENT_ID, TestChain } from '../tests/support/fixtures.js';
import type { NewEvent } from './events.js';

const exam = makeExam();
const doc = (studentId: string, name: string, extra: Partial<ExamineeDoc> = {}): ExamineeDoc => ({
  _id: `examinee:${exam.examId}:${studentId}`,
  type: 'examinee',
  schemaVersion: 1,
  examId: exam.examId,
  studentId,
  name,
  maxDownloads: 2,
  accommodationPercent: 0,
  accessCodeHash: 'x',
  ...extra,
});

function rowAfter(events: NewEvent[], d = doc(STUDENT_ID, 'Zoë Ångström'), now = START + 10 * MINUTE): ParticipantRow {
  const chain = new TestChain();
  events.forEach((e, i) => chain.append(START - 30 * MINUTE + i * 1_000, e));
  const state = foldEvents(chain.events, d.studentId);
  return participantRow({
    exam,
    wide: initialExamWideState(),
    doc: d,
    state,
    timeline: examineeTimeline(exam, state.accommodationPercent ?? d.accommodationPercent),
    progress: { answered: 3, total: 12 },
    submissionScore: undefined,
    totalQuestions: 12,
    now,
  });
}

describe('participant rows', () => {
  it('computes status, downloads, progress and time left from the events', () => {
    const r = rowAfter([EV.signedIn(), EV.downloaded(), EV.started()]);
    expect(r).toMatchObject({
      status: 'active',
      downloads: 1,
      firstDownloadAt: new Date(START - 30 * MINUTE + 1_000).toISOString(),
      answeredPercent: 25,
      submissionType: 'not-yet',
      msLeft: 80 * MINUTE,
      integrityScore: 100,
    });
  });

  it('searches names without accents or case, filters by status, and sorts with nulls last', () => {
    const rows = [
      rowAfter([], doc('s-1', 'Zoë Ångström')),
      rowAfter([EV.signedIn()], doc(STUDENT_ID, 'Ada Lovelace')),
      rowAfter([], doc('s-3', 'Émile Borel')),
    ];
    expect(queryRows(rows, { q: 'ANGSTROM' }).map((r) => r.name)).toEqual(['Zoë Ångström']);
    expect(queryRows(rows, { q: 'emile' }).map((r) => r.name)).toEqual(['Émile Borel']);
    expect(queryRows(rows, { status: 'logged-in' }).map((r) => r.name)).toEqual(['Ada Lovelace']);
    expect(queryRows(rows, { sort: 'name' }).map((r) => r.name)).toEqual([
      'Ada Lovelace',
      'Émile Borel',
      'Zoë Ångström',
    ]);
    expect(queryRows(rows, { sort: 'lastActivityAt', dir: 'desc' })[2]?.lastActivityAt).toBeNull();
    expect(statusCounts(rows)).toMatchObject({ 'not-started': 2, 'logged-in': 1, active: 0 });
    expect(trackingTotals(rows, undefined)).toEqual({ posted: 3, downloads: 0, uploads: 0, uploadDeadline: null });
  });
});
