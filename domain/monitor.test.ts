import { describe, expect, it } from 'vitest';
import { MINUTE } from './clock.js';
import { examineeTimeline } from './exam-clock.js';
import { initialExamWideState } from './exam-state.js';
import type { ExamineeDoc } from './exam-format.js';
import {
  COLUMN_SORT_KEYS,
  PARTICIPANT_COLUMNS,
  participantRow,
  queryRows,
  SORT_KEYS,
  statusCounts,
  trackingTotals,
  type ParticipantRow,
  type SortKey,
} from './monitor.js';
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

  describe('sorting by every column', () => {
    const base = rowAfter([]);
    const row = (name: string, studentId: string, extra: Partial<ParticipantRow>): ParticipantRow => ({
      ...base,
      name,
      studentId,
      ...extra,
    });
    const names = (rows: ParticipantRow[], sort: SortKey, dir: 'asc' | 'desc' = 'asc') =>
      queryRows(rows, { sort, dir }).map((r) => r.name);

    it('gives every column a sort key the appliance accepts', () => {
      for (const c of PARTICIPANT_COLUMNS) expect(SORT_KEYS).toContain(COLUMN_SORT_KEYS[c]);
    });

    it.each<[SortKey, Partial<ParticipantRow>, Partial<ParticipantRow>, Partial<ParticipantRow>]>([
      ['maxDownloads', { maxDownloads: 1 }, { maxDownloads: 2 }, { maxDownloads: 10 }],
      [
        'lateLoginDeadline',
        { lateLoginDeadline: '2030-01-01T08:10:00.000Z' },
        { lateLoginDeadline: '2030-01-01T08:20:00.000Z' },
        { lateLoginDeadline: '2030-01-01T09:00:00.000Z' },
      ],
      [
        'contact',
        { hasEmail: false, hasPhone: false },
        { hasEmail: false, hasPhone: true },
        { hasEmail: true, hasPhone: true },
      ],
      ['verification', { verification: 'pending' }, { verification: 'verified' }, { verification: 'rejected' }],
      ['bathroom', { bathroom: 'none' }, { bathroom: 'requested' }, { bathroom: 'approved' }],
      [
        'hardwareChecks',
        { disabledHardwareChecks: [] },
        { disabledHardwareChecks: ['camera'] },
        { disabledHardwareChecks: ['camera', 'microphone'] },
      ],
      ['submissionType', { submissionType: 'not-yet' }, { submissionType: 'manual' }, { submissionType: 'automatic' }],
      ['filesUploaded', { filesUploaded: 0 }, { filesUploaded: 2 }, { filesUploaded: 11 }],
      [
        'integrityReview',
        { integrityReview: 'not-reviewed' },
        { integrityReview: 'cleared' },
        { integrityReview: 'violation' },
      ],
      ['resumeCodesIssued', { resumeCodesIssued: 0 }, { resumeCodesIssued: 1 }, { resumeCodesIssued: 3 }],
      [
        'closedScore',
        { closedScore: { score: 1, maxScore: 10 } },
        { closedScore: { score: 3, maxScore: 4 } },
        { closedScore: { score: 5, maxScore: 5 } },
      ],
    ])('sorts by %s both ways', (key, low, mid, high) => {
      // Names in the opposite order to the values, so the name tie-break cannot pass for the sort.
      const rows = [row('C', 's-c', low), row('A', 's-a', high), row('B', 's-b', mid)];
      expect(names(rows, key)).toEqual(['C', 'B', 'A']);
      expect(names(rows, key, 'desc')).toEqual(['A', 'B', 'C']);
    });

    it('sorts by time left from the deadline, submitted examinees last both ways', () => {
      const rows = [
        row('Done', 's-d', { status: 'submitted', deadline: '2030-01-01T08:00:00.000Z' }),
        row('Later', 's-l', { status: 'active', deadline: '2030-01-01T10:00:00.000Z' }),
        row('Soon', 's-s', { status: 'active', deadline: '2030-01-01T09:00:00.000Z' }),
      ];
      expect(names(rows, 'timeLeft')).toEqual(['Soon', 'Later', 'Done']);
      expect(names(rows, 'timeLeft', 'desc')).toEqual(['Later', 'Soon', 'Done']);
    });

    it('breaks ties by name (naturally), ascending in both directions, then by student id', () => {
      const rows = [
        row('Bea', 's-2', { downloads: 1 }),
        row('Ann', 's-3', { downloads: 1 }),
        row('Ann', 's-1', { downloads: 1 }),
        row('Cy', 's-4', { downloads: 0 }),
        row('Examinee 10', 's-10', { downloads: 2 }),
        row('Examinee 9', 's-9', { downloads: 2 }),
      ];
      const order = (dir: 'asc' | 'desc') => queryRows(rows, { sort: 'downloads', dir }).map((r) => r.studentId);
      expect(order('asc')).toEqual(['s-4', 's-1', 's-3', 's-2', 's-9', 's-10']);
      expect(order('desc')).toEqual(['s-9', 's-10', 's-1', 's-3', 's-2', 's-4']);
    });

    it('sorts names naturally, so Examinee 2 comes before Examinee 10, and reverses them', () => {
      const rows = [row('Examinee 10', 'S10', {}), row('Examinee 2', 'S2', {}), row('Examinee 1', 'S1', {})];
      expect(names(rows, 'name')).toEqual(['Examinee 1', 'Examinee 2', 'Examinee 10']);
      expect(names(rows, 'name', 'desc')).toEqual(['Examinee 10', 'Examinee 2', 'Examinee 1']);
    });
  });
});
