import { describe, expect, it } from 'vitest';
import { answeredBuckets, findExaminee, rowTimeLeft } from './rules';

const START = Date.parse('2026-06-01T09:00:00Z');
const MIN = 60_000;

describe('the monitor’s rules', () => {
  it('puts each examinee in one answered bucket: 0–24, 25–49, 50–74, 75–99, 100 %', () => {
    const rows = [0, 24, 25, 49, 50, 74, 75, 99, 100, 20].map((answeredPercent) => ({ answeredPercent }));
    expect(answeredBuckets(rows)).toEqual([3, 2, 2, 2, 1]);
    expect(answeredBuckets([])).toEqual([0, 0, 0, 0, 0]);
  });

  it('counts time left down on the appliance clock, whole time before the start, none once submitted', () => {
    const row = { status: 'active' as const, msLeft: 60 * MIN, deadline: new Date(START + 70 * MIN).toISOString() };
    const info = { scheduledStart: new Date(START).toISOString() };
    expect(rowTimeLeft(row, info, START - 5 * MIN)).toBe(60 * MIN);
    expect(rowTimeLeft(row, info, START + 10 * MIN)).toBe(60 * MIN);
    expect(rowTimeLeft(row, info, START + 69 * MIN)).toBe(MIN);
    expect(rowTimeLeft(row, info, START + 80 * MIN)).toBe(0);
    expect(rowTimeLeft({ ...row, status: 'submitted' }, info, START + 10 * MIN)).toBeNull();
  });

  it('finds the examinee a proctor means by id, suggestion, case, or a name only one has', () => {
    const rows = [
      { studentId: 'S1', name: 'Ada Lovelace' },
      { studentId: 's10', name: 'José Núñez' },
      { studentId: 'S2', name: 'Jose Nunez' },
    ];
    expect(findExaminee(rows, 'S1')?.name).toBe('Ada Lovelace');
    expect(findExaminee(rows, ' S1 — Ada Lovelace ')?.studentId).toBe('S1');
    expect(findExaminee(rows, 'S10')?.studentId).toBe('s10');
    expect(findExaminee(rows, 'ada lovelace')?.studentId).toBe('S1');
    // Two examinees fold to the same name: ambiguous, so nobody.
    expect(findExaminee(rows, 'jose nunez')).toBeUndefined();
    expect(findExaminee(rows, 'S3')).toBeUndefined();
    expect(findExaminee(rows, '   ')).toBeUndefined();
  });
});
