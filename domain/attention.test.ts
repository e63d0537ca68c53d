import { describe, expect, it } from 'vitest';
import { attentionItems, newAttention, openQuestions } from './attention.js';

type Row = Parameters<typeof attentionItems>[0][number];
const T0 = Date.parse('2026-06-01T09:00:00.000Z');
const row = (studentId: string, name: string, extra: Partial<Row> = {}): Row => ({
  studentId,
  name,
  status: 'active',
  bathroom: 'none',
  bathroomSince: null,
  verification: 'verified',
  verificationPhotos: 0,
  changedAfterTimeUp: false,
  timeUp: null,
  uploadedAt: null,
  integrityEvents: 0,
  integrityReview: 'not-reviewed',
  proctoringType: 'none',
  snapshotProblems: {},
  ...extra,
});

describe('attention', () => {
  it('lists nothing for quiet examinees', () => {
    expect(attentionItems([row('s1', 'Ana'), row('s2', 'Ben')], [], [], T0)).toEqual([]);
  });

  it('lists each kind, oldest first, using the row’s own time where it has one', () => {
    const rows = [
      row('s1', 'Ana', { bathroom: 'requested', bathroomSince: new Date(T0 + 5_000).toISOString() }),
      row('s2', 'Ben', { status: 'waiting-relogin' }),
      row('s3', 'Cleo', { verification: 'pending', verificationPhotos: 1 }),
      row('s4', 'Dan', {
        changedAfterTimeUp: true,
        timeUp: { differingAnswers: 2, unseenMs: 60_000, decision: null },
        uploadedAt: new Date(T0 - 1_000).toISOString(),
      }),
      row('s5', 'Eva', { integrityEvents: 3 }),
    ];
    const items = attentionItems(rows, [{ studentId: 's2', at: T0 - 2_000 }], [], T0 + 10_000);
    expect(items.map((i) => [i.name, i.kind, i.since - T0])).toEqual([
      ['Ben', 'question', -2_000],
      ['Dan', 'changed-after-time-up', -1_000],
      ['Ana', 'bathroom', 5_000],
      ['Ben', 'relogin', 10_000],
      ['Cleo', 'verification-photo', 10_000],
      ['Eva', 'integrity', 10_000],
    ]);
  });

  it('keeps the time an entry was first seen, and clears it once someone acts', () => {
    const first = attentionItems([row('s1', 'Ana', { integrityEvents: 1 })], [], [], T0);
    const later = attentionItems(
      [row('s1', 'Ana', { integrityEvents: 2 }), row('s2', 'Ben', { status: 'waiting-relogin' })],
      [],
      first,
      T0 + 60_000,
    );
    expect(later.map((i) => [i.name, i.since - T0])).toEqual([
      ['Ana', 0],
      ['Ben', 60_000],
    ]);
    expect(newAttention(first, later).map((i) => i.name)).toEqual(['Ben']);
    const acted = attentionItems(
      [row('s1', 'Ana', { integrityEvents: 2, integrityReview: 'cleared' }), row('s2', 'Ben')],
      [],
      later,
      T0 + 120_000,
    );
    expect(acted).toEqual([]);
  });

  it('clears a bathroom request once decided and a time-up flag once the chief decides', () => {
    const decided = [
      row('s1', 'Ana', { bathroom: 'approved', bathroomSince: new Date(T0).toISOString() }),
      row('s2', 'Ben', {
        changedAfterTimeUp: true,
        timeUp: { differingAnswers: 1, unseenMs: null, decision: 'submitted-file' },
      }),
    ];
    expect(attentionItems(decided, [], [], T0)).toEqual([]);
  });

  it('lists one question entry per examinee, at their oldest open question', () => {
    const items = attentionItems(
      [row('s1', 'Ana')],
      [
        { studentId: 's1', at: T0 + 9 },
        { studentId: 's1', at: T0 + 3 },
      ],
      [],
      T0 + 100,
    );
    expect(items).toEqual([{ studentId: 's1', name: 'Ana', kind: 'question', since: T0 + 3 }]);
  });
});

describe('openQuestions', () => {
  it('keeps questions asked after the last private answer', () => {
    const at = (ms: number) => new Date(T0 + ms).toISOString();
    const open = openQuestions([
      { at: at(1), audience: 'proctors', studentId: 's1' },
      { at: at(2), audience: 'examinee', studentId: 's1' },
      { at: at(3), audience: 'proctors', studentId: 's2' },
      { at: at(4), audience: 'all', studentId: null },
      { at: at(5), audience: 'proctors', studentId: 's1' },
    ]);
    expect(open).toEqual([
      { studentId: 's2', at: T0 + 3 },
      { studentId: 's1', at: T0 + 5 },
    ]);
  });

  it('asks for a proctor while the device cannot take the snapshots its type needs, until a review or a change', () => {
    const refused = { proctoringType: 'camera-and-screen' as const, snapshotProblems: { camera: 'denied' as const } };
    expect(attentionItems([row('s1', 'Ana', refused)], [], [], T0)).toEqual([
      { studentId: 's1', name: 'Ana', kind: 'snapshots', since: T0 },
    ]);
    // The chief changed the type to screen only: the camera is no longer needed.
    expect(attentionItems([row('s1', 'Ana', { ...refused, proctoringType: 'screen' })], [], [], T0)).toEqual([]);
    expect(attentionItems([row('s1', 'Ana', { ...refused, integrityReview: 'cleared' })], [], [], T0)).toEqual([]);
    expect(attentionItems([row('s1', 'Ana', { ...refused, status: 'submitted' })], [], [], T0)).toEqual([]);
  });
});
