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

  it('answers the previous list itself when an update changes nothing that waits, and a new one when it does', () => {
    const rows = [
      row('s1', 'Ana', { integrityEvents: 1 }),
      row('s2', 'Ben'),
      row('s3', 'Cleo', { bathroom: 'requested', bathroomSince: new Date(T0).toISOString() }),
    ];
    const questions = [{ studentId: 's2', at: T0 - 1_000 }];
    const first = attentionItems(rows, questions, [], T0);
    // An autosave replaces Ben's row and Ana gets one more integrity event (still unreviewed).
    const saved = [{ ...rows[0]!, integrityEvents: 2 }, { ...rows[1]! }, rows[2]!];
    const same = attentionItems(saved, [...questions], first, T0 + 5_000);
    expect(same).toBe(first);
    // The same as a list computed afresh from the same rows (no previous result to reuse).
    expect(attentionItems(saved, questions, [...first], T0 + 5_000)).toEqual(first);
    // Then Ben's bathroom break: a new list, the others keeping their place and time.
    const asked = [
      saved[0]!,
      { ...saved[1]!, bathroom: 'requested' as const, bathroomSince: new Date(T0 + 6_000).toISOString() },
      saved[2]!,
    ];
    const next = attentionItems(asked, questions, same, T0 + 7_000);
    expect(next).not.toBe(first);
    expect(next.map((i) => [i.name, i.kind, i.since - T0])).toEqual([
      ['Ben', 'question', -1_000],
      ['Ana', 'integrity', 0],
      ['Cleo', 'bathroom', 0],
      ['Ben', 'bathroom', 6_000],
    ]);
    // A review clears Ana's entry; a renamed examinee, a reordered list and a new question each give a new list.
    const reviewed = [{ ...asked[0]!, integrityReview: 'cleared' as const }, asked[1]!, asked[2]!];
    expect(attentionItems(reviewed, questions, next, T0 + 8_000).map((i) => i.studentId)).toEqual(['s2', 's3', 's2']);
    expect(
      attentionItems([asked[0]!, { ...asked[1]!, name: 'Benedict' }, asked[2]!], questions, next, T0).map(
        (i) => i.name,
      ),
    ).toContain('Benedict');
    expect(attentionItems([asked[2]!, asked[0]!, asked[1]!], questions, next, T0)).not.toBe(next);
    expect(attentionItems(asked, [...questions, { studentId: 's1', at: T0 + 7_500 }], next, T0).length).toBe(5);
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
