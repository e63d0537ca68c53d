import { describe, expect, it } from 'vitest';
import { MINUTE } from './clock.js';
import { seededChoices } from './seeded-random.js';
import {
  answerDigests,
  connectedAtDeadline,
  decideTiming,
  differingQuestions,
  effectiveSubmissionType,
  type PresenceAtDeadline,
  type TimingCase,
} from './time-up.js';

const D = Date.parse('2026-06-01T10:00:00Z');
const timeline = { deadline: D, graceEnd: D + 60_000 };
const ONLINE: PresenceAtDeadline = { lastSeen: D - 2_000, streamOpen: true };
const POLLING: PresenceAtDeadline = { lastSeen: D - 10_000, streamOpen: false };
const GONE: PresenceAtDeadline = { lastSeen: D - 10_001, streamOpen: false };
const AT_D = answerDigests({ q1: 'a', q4: 'Entropy grows.' });
const SAME = answerDigests({ q4: 'Entropy grows.', q1: 'a', q2: '' }); // a blank answer is no answer
const EDITED = answerDigests({ q1: 'b', q4: 'Entropy grows. Edited offline.' });

describe('time-up rules', () => {
  const table: Array<{
    name: string;
    at: number;
    type: 'manual' | 'automatic';
    presence: PresenceAtDeadline | undefined;
    submitted: typeof AT_D;
    draft: typeof AT_D | undefined;
    expected: TimingCase;
    late: boolean;
    differing?: number;
  }> = [
    {
      name: 'manual well before D',
      at: D - 5 * MINUTE,
      type: 'manual',
      presence: undefined,
      submitted: EDITED,
      draft: AT_D,
      expected: 'on-time',
      late: false,
    },
    {
      name: 'automatic claimed 11 s early counts as manual',
      at: D - 11_000,
      type: 'automatic',
      presence: ONLINE,
      submitted: AT_D,
      draft: AT_D,
      expected: 'on-time',
      late: false,
    },
    {
      name: 'automatic 10 s before D',
      at: D - 10_000,
      type: 'automatic',
      presence: ONLINE,
      submitted: AT_D,
      draft: AT_D,
      expected: 'sealed-at-time-up',
      late: false,
    },
    {
      name: 'online automatic 0.3 s after D',
      at: D + 300,
      type: 'automatic',
      presence: ONLINE,
      submitted: EDITED,
      draft: AT_D,
      expected: 'sealed-at-time-up',
      late: false,
    },
    {
      name: 'polling device, last request 10 s before D, at G',
      at: D + 60_000,
      type: 'automatic',
      presence: POLLING,
      submitted: EDITED,
      draft: AT_D,
      expected: 'sealed-at-time-up',
      late: false,
    },
    {
      name: 'connected device 1 ms after G, different',
      at: D + 60_001,
      type: 'automatic',
      presence: ONLINE,
      submitted: EDITED,
      draft: AT_D,
      expected: 'late',
      late: true,
      differing: 2,
    },
    {
      name: 'connected device after G, equal',
      at: D + 5 * MINUTE,
      type: 'automatic',
      presence: ONLINE,
      submitted: SAME,
      draft: AT_D,
      expected: 'sealed-offline',
      late: false,
    },
    {
      name: 'unseen device, equal, within grace',
      at: D + 1_000,
      type: 'automatic',
      presence: GONE,
      submitted: SAME,
      draft: AT_D,
      expected: 'sealed-offline',
      late: false,
    },
    {
      name: 'unseen device, equal, long after',
      at: D + 30 * MINUTE,
      type: 'automatic',
      presence: GONE,
      submitted: SAME,
      draft: AT_D,
      expected: 'sealed-offline',
      late: false,
    },
    {
      name: 'unseen device, edited',
      at: D + 2 * MINUTE,
      type: 'automatic',
      presence: GONE,
      submitted: EDITED,
      draft: AT_D,
      expected: 'changed-after-time-up',
      late: false,
      differing: 2,
    },
    {
      name: 'presence unknown (restart), edited, within grace',
      at: D + 1_000,
      type: 'manual',
      presence: undefined,
      submitted: EDITED,
      draft: AT_D,
      expected: 'changed-after-time-up',
      late: false,
      differing: 2,
    },
    {
      name: 'unseen, no draft held, nothing answered',
      at: D + 1_000,
      type: 'automatic',
      presence: GONE,
      submitted: {},
      draft: undefined,
      expected: 'sealed-offline',
      late: false,
    },
    {
      name: 'unseen, no draft held, answers',
      at: D + 1_000,
      type: 'automatic',
      presence: GONE,
      submitted: AT_D,
      draft: undefined,
      expected: 'changed-after-time-up',
      late: false,
      differing: 2,
    },
    {
      name: 'last request after D only (came back): unseen at D',
      at: D + 20_000,
      type: 'automatic',
      presence: { lastSeen: undefined, streamOpen: false },
      submitted: EDITED,
      draft: AT_D,
      expected: 'changed-after-time-up',
      late: false,
      differing: 2,
    },
  ];
  for (const row of table) {
    it(row.name, () => {
      const d = decideTiming({
        timeline,
        arrivedAt: row.at,
        claimedType: row.type,
        presence: row.presence,
        submitted: row.submitted,
        draftAtDeadline: row.draft,
      });
      expect(d.case).toBe(row.expected);
      expect(d.late).toBe(row.late);
      if (row.differing !== undefined) expect(d.differingQuestions).toHaveLength(row.differing);
    });
  }

  it('says how long an unseen device was unseen: from its last request to the arrival', () => {
    const d = decideTiming({
      timeline,
      arrivedAt: D + 3 * MINUTE,
      claimedType: 'automatic',
      presence: { lastSeen: D - 45_000, streamOpen: false },
      submitted: EDITED,
      draftAtDeadline: AT_D,
    });
    expect(d).toMatchObject({
      case: 'changed-after-time-up',
      unseenMs: 3 * MINUTE + 45_000,
      differingQuestions: ['q1', 'q4'],
    });
  });

  it('connected: a request in [D − 10 s, D] or a stream open at D', () => {
    expect(connectedAtDeadline({ lastSeen: D, streamOpen: false }, D)).toBe(true);
    expect(connectedAtDeadline({ lastSeen: D - 10_000, streamOpen: false }, D)).toBe(true);
    expect(connectedAtDeadline({ lastSeen: D - 10_001, streamOpen: false }, D)).toBe(false);
    expect(connectedAtDeadline({ lastSeen: D + 1, streamOpen: false }, D)).toBe(false);
    expect(connectedAtDeadline({ lastSeen: undefined, streamOpen: true }, D)).toBe(true);
    expect(connectedAtDeadline(undefined, D)).toBe(false);
  });

  it('counts the automatic claim only from D − 10 s', () => {
    expect(effectiveSubmissionType('automatic', D, D - 10_001)).toBe('manual');
    expect(effectiveSubmissionType('automatic', D, D - 10_000)).toBe('automatic');
    expect(effectiveSubmissionType('manual', D, D + 1)).toBe('manual');
  });

  it('compares answers as canonical values: NFC text, choice sets, blank as none', () => {
    expect(
      differingQuestions(
        answerDigests({ q1: 'e\u0301', q2: ['b', 'a'] }),
        answerDigests({ q1: 'é', q2: ['a', 'b', 'a'] }),
      ),
    ).toEqual([]);
    expect(
      differingQuestions(answerDigests({ q1: 'x', q3: 23 }), answerDigests({ q1: 'x', q3: 23.5, q4: '  ' })),
    ).toEqual(['q3']);
  });

  it('never refuses and is on time exactly when nothing changed after time-up (seeded)', () => {
    const rnd = seededChoices(14_05);
    for (let i = 0; i < 2_000; i++) {
      const draft = { q1: rnd.pick(['a', 'b']), q2: rnd.pick([true, false]), q4: rnd.pick(['', 'x', 'y']) };
      const submitted = rnd.next() < 0.5 ? { ...draft } : { ...draft, q4: rnd.pick(['x', 'y', 'z']) };
      const arrivedAt = D + rnd.int(10 * MINUTE) - MINUTE;
      const presence: PresenceAtDeadline | undefined = rnd.pick([
        undefined,
        { lastSeen: D - rnd.int(30_000), streamOpen: rnd.next() < 0.3 },
      ]);
      const d = decideTiming({
        timeline,
        arrivedAt,
        claimedType: rnd.pick(['manual', 'automatic'] as const),
        presence,
        submitted: answerDigests(submitted),
        draftAtDeadline: answerDigests(draft),
      });
      const changed = differingQuestions(answerDigests(submitted), answerDigests(draft)).length > 0;
      const connected = connectedAtDeadline(presence, D);
      if (arrivedAt <= D || (connected && arrivedAt <= timeline.graceEnd)) expect(d.late).toBe(false);
      else if (!changed) expect(d.case).toBe('sealed-offline');
      else expect(d.case).toBe(connected ? 'late' : 'changed-after-time-up');
      // Only a connected device past the grace with changed answers is late.
      expect(d.late).toBe(d.case === 'late');
      if (d.late) expect(arrivedAt).toBeGreaterThan(timeline.graceEnd);
    }
  });
});
