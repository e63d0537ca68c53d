import { describe, expect, it } from 'vitest';
import { RowKeys } from './row-keys';

const ids = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `S${from + i}`);

describe('the keys of the participants table’s rows, for the same list', () => {
  it('keeps an examinee’s key while they stay in the window, whatever the order', () => {
    const keys = new RowKeys();
    const first = keys.assign(['A', 'B', 'C'], undefined);
    const again = keys.assign(['C', 'A', 'B'], undefined);
    expect(again).toEqual([first[2], first[0], first[1]]);
  });

  it('hands the keys of those who left, in their order, to those who came, so a scroll patches the rows', () => {
    const keys = new RowKeys();
    const before = keys.assign(ids(0, 22), undefined);
    const after = keys.assign(ids(100, 122), undefined);
    expect(after).toEqual(before); // every row's elements reused in place, none created
    const mixed = keys.assign(['S100', 'X1', 'S101', 'X2'], undefined);
    expect(mixed[0]).toBe(after[0]);
    expect(mixed[2]).toBe(after[1]);
    expect(new Set(mixed).size).toBe(4);
    expect([mixed[1], mixed[3]].every((k) => k !== undefined && after.slice(2).includes(k))).toBe(true);
  });

  it('never hands on the key of the row holding the focus', () => {
    const keys = new RowKeys();
    const before = keys.assign(['A', 'B'], undefined);
    const after = keys.assign(['C', 'D'], 'A');
    expect(after).not.toContain(before[0]); // A's row goes, and the focus with it
    expect(after).toContain(before[1]);
    expect(new Set(after).size).toBe(2);
  });

  it('gives new keys when the window grows', () => {
    const keys = new RowKeys();
    const before = keys.assign(['A'], undefined);
    const after = keys.assign(['A', 'B', 'C'], undefined);
    expect(after[0]).toBe(before[0]);
    expect(new Set(after).size).toBe(3);
  });
});

describe('the keys of the participants table’s rows, for a new list', () => {
  it('keeps each place’s key whoever is shown there, so a new search or order moves no row', () => {
    const keys = new RowKeys();
    const first = keys.assign(['A', 'B', 'C'], undefined);
    expect(keys.assign(['C', 'A', 'B'], undefined, true)).toEqual(first);
    expect(keys.assign(ids(100, 103), undefined, true)).toEqual(first);
  });

  it('lets the row holding the focus follow its examinee, and moves no other row', () => {
    const keys = new RowKeys();
    const before = keys.assign(['A', 'B', 'C', 'D'], undefined);
    const after = keys.assign(['A', 'C', 'D', 'B'], 'B', true);
    expect(after).toEqual([before[0], before[2], before[3], before[1]]);
    // The same list again, its examinees' rows following them: B's row stays B's.
    const again = keys.assign(['X', 'A', 'C', 'D', 'B'], 'B');
    expect(again[4]).toBe(before[1]);
    expect(again.slice(1, 4)).toEqual([before[0], before[2], before[3]]);
    expect(new Set(again).size).toBe(5);
  });

  it('never hands on the key of the row holding the focus when its examinee leaves', () => {
    const keys = new RowKeys();
    const before = keys.assign(['A', 'B'], undefined);
    const after = keys.assign(['C', 'D'], 'A', true);
    expect(after).not.toContain(before[0]);
    expect(after[0]).toBe(before[1]);
    expect(new Set(after).size).toBe(2);
  });

  it('gives new keys when the window grows, and drops the last places when it shrinks', () => {
    const keys = new RowKeys();
    const before = keys.assign(['A'], undefined);
    const after = keys.assign(['C', 'B', 'A'], undefined, true);
    expect(after[0]).toBe(before[0]);
    expect(new Set(after).size).toBe(3);
    expect(keys.assign(['B'], undefined, true)).toEqual([after[0]]);
  });
});
