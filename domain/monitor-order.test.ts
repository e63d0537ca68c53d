import { describe, expect, it } from 'vitest';
import {
  placeChangedRows,
  queryRows,
  rowMatcher,
  SORT_KEYS,
  sortRows,
  type ParticipantRow,
  type RowOrder,
} from './monitor.js';

const BASE: ParticipantRow = {
  studentId: 'S1',
  name: 'Examinee 1',
  examineeId: null,
  seat: null,
  hasEmail: false,
  hasPhone: false,
  status: 'active',
  maxDownloads: 2,
  downloads: 1,
  firstDownloadAt: '2026-12-01T09:00:00.000Z',
  uploadedAt: null,
  submissionType: 'not-yet',
  submissionId: null,
  late: false,
  timing: null,
  changedAfterTimeUp: false,
  timeUp: null,
  filesUploaded: 0,
  lateLoginDeadline: '2026-12-01T09:15:00.000Z',
  personalLateLoginMinutes: null,
  verificationMode: 'manual',
  verification: 'pending',
  verificationPhotos: 0,
  wrongVerificationPasswords: 0,
  networkRefusedFrom: null,
  bathroom: 'none',
  bathroomSince: null,
  disabledHardwareChecks: [],
  extensionMinutes: 0,
  accommodationPercent: 0,
  deadline: '2026-12-01T11:00:00.000Z',
  msLeft: 3_600_000,
  answeredPercent: 0,
  answered: 0,
  questions: 12,
  closedScore: null,
  integrityScore: 0,
  integrityEvents: 0,
  integrityReview: 'not-reviewed',
  resumeCodesIssued: 0,
  proctoringType: 'none',
  snapshots: 0,
  lastSnapshotAt: null,
  snapshotProblems: {},
  lastActivityAt: null,
};

const row = (studentId: string, name: string, extra: Partial<ParticipantRow> = {}): ParticipantRow => ({
  ...BASE,
  studentId,
  name,
  ...extra,
});

/** A small deterministic random source (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const STATUSES: ParticipantRow['status'][] = ['not-started', 'logged-in', 'active', 'submitted'];

function randomRow(rand: () => number, i: number): ParticipantRow {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  return row(`S${i}`, pick(['Ana', 'Zoë Ångström', 'Examinee 2', 'Examinee 10', 'examinee 2', 'Bo']), {
    status: pick(STATUSES),
    answeredPercent: Math.floor(rand() * 5) * 25,
    downloads: Math.floor(rand() * 3),
    uploadedAt: rand() < 0.3 ? null : `2026-12-01T10:0${Math.floor(rand() * 10)}:00.000Z`,
    closedScore: rand() < 0.5 ? null : { score: Math.floor(rand() * 4), maxScore: pick([0, 4]) },
    deadline: `2026-12-01T1${Math.floor(rand() * 3)}:00:00.000Z`,
    seat: rand() < 0.5 ? null : pick(['A1', 'A10', 'B2']),
  });
}

describe('the participants order', () => {
  it('never holds two rows equal: student ids the collator calls equal keep one order', () => {
    const a = row('S01', 'Same');
    const b = row('S1', 'Same');
    expect(sortRows([a, b], {}).map((r) => r.studentId)).toEqual(['S01', 'S1']);
    expect(sortRows([b, a], {}).map((r) => r.studentId)).toEqual(['S01', 'S1']);
    expect(sortRows([b, a], { dir: 'desc' }).map((r) => r.studentId)).toEqual(['S01', 'S1']);
  });

  it('sorts naturally by name, then by student id, nulls last in both directions', () => {
    const rows = [row('S3', 'Examinee 10'), row('S2', 'Examinee 2'), row('S1', 'Examinee 2')];
    expect(sortRows(rows, {}).map((r) => r.studentId)).toEqual(['S1', 'S2', 'S3']);
    const seats = [row('S1', 'A', { seat: null }), row('S2', 'B', { seat: 'A10' }), row('S3', 'C', { seat: 'A2' })];
    expect(sortRows(seats, { sort: 'seat' }).map((r) => r.studentId)).toEqual(['S3', 'S2', 'S1']);
    expect(sortRows(seats, { sort: 'seat', dir: 'desc' }).map((r) => r.studentId)).toEqual(['S2', 'S3', 'S1']);
  });
});

/** The same row objects in the same order. */
function expectSame(actual: readonly ParticipantRow[], expected: readonly ParticipantRow[]) {
  expect(actual.map((r) => r.studentId)).toEqual(expected.map((r) => r.studentId));
  expect(actual.every((r, i) => r === expected[i])).toBe(true);
}

describe('placeChangedRows: only the changed rows re-placed', () => {
  const orders: RowOrder[] = SORT_KEYS.flatMap((sort) => [{ sort }, { sort, dir: 'desc' as const }]);
  orders.push({});

  it('gives what a full sort gives, over random changes, additions and removals in every order', () => {
    const rand = random(42);
    for (const order of orders) {
      let rows = Array.from({ length: 120 }, (_, i) => randomRow(rand, i));
      let sorted = sortRows(rows, order);
      let next = 120;
      for (let step = 0; step < 30; step++) {
        const after = rows.map((r, i) => (rand() < 0.04 ? randomRow(rand, i) : r));
        // Now and then a new examinee at the end (a late roster entry).
        if (rand() < 0.2) after.push(randomRow(rand, next++));
        const placed = placeChangedRows(sorted, rows, after, order);
        expectSame(placed, sortRows(after, order));
        rows = after;
        sorted = placed;
      }
      const shorter = rows.slice(0, 100);
      expectSame(placeChangedRows(sorted, rows, shorter, order), sortRows(shorter, order));
    }
  });

  it('keeps the rows that did not change as they were, and does not modify its input', () => {
    const rows = [row('S1', 'Cy'), row('S2', 'Al'), row('S3', 'Bo')];
    const sorted = sortRows(rows, {});
    const frozen = [...sorted];
    const after = [rows[0]!, row('S2', 'Dee'), rows[2]!];
    const placed = placeChangedRows(sorted, rows, after, {});
    expect(placed.map((r) => r.name)).toEqual(['Bo', 'Cy', 'Dee']);
    expect(placed[0]).toBe(rows[2]);
    expect(sorted).toEqual(frozen);
    expect(placeChangedRows(placed, after, after, {})).toEqual(placed);
  });

  it('falls back to a full sort for a fresh snapshot (every row a new object)', () => {
    const rand = random(7);
    const rows = Array.from({ length: 50 }, (_, i) => randomRow(rand, i));
    const snapshot = rows.map((r) => ({ ...r }));
    expectSame(placeChangedRows(sortRows(rows, {}), rows, snapshot, {}), sortRows(snapshot, {}));
  });
});

describe('search and filter, each row folded once', () => {
  it('matches name or student id with case and accents ignored, and the status', () => {
    const rows = [
      row('S1', 'Zoë Ångström'),
      row('AB-7', 'Bo', { status: 'submitted' }),
      row('S3', 'Cy', { status: 'submitted' }),
    ];
    const ids = (q: Parameters<typeof rowMatcher>[0]) =>
      rows.filter(rowMatcher(q) ?? (() => true)).map((r) => r.studentId);
    expect(rowMatcher({})).toBeUndefined();
    expect(rowMatcher({ q: '  ' })).toBeUndefined();
    expect(ids({ q: 'ZOE ang' })).toEqual(['S1']);
    expect(ids({ q: 'ab-' })).toEqual(['AB-7']);
    expect(ids({ status: 'submitted' })).toEqual(['AB-7', 'S3']);
    expect(ids({ q: 's', status: 'submitted' })).toEqual(['S3']);
    // The same row object searched again gives the same answer from its folded text.
    expect(ids({ q: 'ström' })).toEqual(['S1']);
  });

  it('queryRows is the filter then the sort', () => {
    const rand = random(3);
    const rows = Array.from({ length: 80 }, (_, i) => randomRow(rand, i));
    const q = { q: 'examinee', status: 'active' as const, sort: 'answeredPercent' as const, dir: 'desc' as const };
    expect(queryRows(rows, q)).toEqual(sortRows(rows.filter(rowMatcher(q)!), q));
  });
});
