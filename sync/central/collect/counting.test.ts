import { describe, expect, it } from 'vitest';
import { decideCounting, duration, type Removal, type SubmissionVersion } from './counting.js';

const T = Date.parse('2026-12-01T10:00:00Z');
const v = (applianceId: string, n: number, receivedAt: number): SubmissionVersion => ({
  id: `submission:phys-1:S1:${applianceId}:${n}`,
  applianceId,
  n,
  receivedAt,
});
const none = { removals: new Map<string, Removal>() };

describe('which submission counts', () => {
  it('counts the only one', () => {
    const only = v('box-a', 1, T);
    expect(decideCounting([only], none).get(only.id)).toEqual({
      counts: true,
      reason: 'the only submission (box-a, accepted 2026-12-01T10:00:00Z)',
    });
  });

  it('counts the latest accepted across boxes, and says when the clocks are too close to tell', () => {
    const a = v('box-a', 1, T + 123_000);
    const b = v('box-b', 1, T + 160_500);
    const verdicts = decideCounting([a, b], none);
    expect(verdicts.get(b.id)).toEqual({
      counts: true,
      reason:
        "latest accepted (box-b, 2026-12-01T10:02:40.500Z); box-a's submission 1 was 38 s earlier by the boxes' clocks: " +
        'within a minute, which two box clocks may differ by, so confirm with the hall which was last',
    });
    expect(verdicts.get(a.id)?.counts).toBe(false);
    expect(verdicts.get(a.id)?.reason).toMatch(
      /^superseded by box-b's submission 1 at 2026-12-01T10:02:40.500Z \(38 s later by the boxes' clocks\): within a minute/,
    );
    const far = v('box-b', 1, T + 20 * 60_000);
    expect(decideCounting([a, far], none).get(far.id)?.reason).not.toContain('within a minute');
  });

  it('on one box, counts the higher number even when the box’s clock went back in between', () => {
    const first = v('box-a', 1, T + 60_000);
    const second = v('box-a', 2, T);
    const verdicts = decideCounting([second, first], none);
    expect(verdicts.get(second.id)?.counts).toBe(true);
    expect(verdicts.get(first.id)).toEqual({
      counts: false,
      reason:
        "superseded by the same box's later submission 2 (2026-12-01T10:00:00Z, although its clock read earlier: it was set back in between)",
    });
  });

  it('compares each box’s latest with the others', () => {
    const a1 = v('box-a', 1, T);
    const a2 = v('box-a', 2, T + 5 * 60_000);
    const b1 = v('box-b', 1, T + 3 * 60_000);
    const verdicts = decideCounting([a1, a2, b1], none);
    expect([...verdicts].filter(([, x]) => x.counts).map(([id]) => id)).toEqual([a2.id]);
    expect(verdicts.get(b1.id)?.reason).toMatch(/^superseded by box-a's submission 2 at .* \(2 min later/);
    expect(verdicts.get(a1.id)?.reason).toMatch(/^superseded by the same box's later submission 2/);
  });

  it('leaves out removed and invalid versions, and counts none when all are removed', () => {
    const a = v('box-a', 1, T);
    const b = v('box-b', 1, T + 60_000);
    const removals = new Map<string, Removal>([
      [b.id, { by: 'chief', applianceId: 'box-b', at: T + 120_000, reason: 'wrong examinee' }],
    ]);
    const verdicts = decideCounting([a, b], { removals });
    expect(verdicts.get(b.id)).toEqual({
      counts: false,
      reason: 'removed by proctor chief on box-b at 2026-12-01T10:02:00Z: "wrong examinee"',
    });
    expect(verdicts.get(a.id)).toMatchObject({ counts: true, reason: expect.stringMatching(/^the only submission/) });
    removals.set(a.id, { applianceId: 'box-a', at: T + 130_000 });
    const all = decideCounting([a, b], { removals });
    expect([...all.values()].some((x) => x.counts)).toBe(false);
    expect(all.get(a.id)?.reason).toBe('removed by a proctor on box-a at 2026-12-01T10:02:10Z');
    const invalid = decideCounting([a], { removals: new Map(), invalid: new Map([[a.id, 'its id does not match']]) });
    expect(invalid.get(a.id)).toEqual({ counts: false, reason: 'not counted: its id does not match' });
  });

  it('breaks a tie by number, then appliance id, and says it was a tie', () => {
    const a = v('box-a', 1, T);
    const b = v('box-b', 1, T);
    const verdicts = decideCounting([b, a], none);
    expect(verdicts.get(b.id)?.counts).toBe(true);
    expect(verdicts.get(b.id)?.reason).toContain('accepted at the same time');
    expect(verdicts.get(a.id)?.reason).toContain('the tie goes to');
  });

  it('adds what is known of a box’s clock', () => {
    const a = v('box-a', 1, T);
    const b = v('box-b', 1, T + 10 * 60_000);
    const clockNotes = new Map([[a.id, "box-a's clock was set 2 min forward by a proctor after it accepted this"]]);
    const verdicts = decideCounting([a, b], { removals: new Map(), clockNotes });
    expect(verdicts.get(b.id)?.reason).toContain("; box-a's clock was set 2 min forward");
    expect(verdicts.get(a.id)?.reason).toContain("; box-a's clock was set 2 min forward");
  });

  it('words durations', () => {
    expect([850, 37_000, 130_000, 120_000, 3 * 3_600_000 + 300_000, -5_000].map(duration)).toEqual([
      '850 ms',
      '37 s',
      '2 min 10 s',
      '2 min',
      '3 h 5 min',
      '5 s',
    ]);
  });
});
