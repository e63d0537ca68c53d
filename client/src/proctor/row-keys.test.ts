import { describe, expect, it } from 'vitest';
import { RowKeys } from './row-keys';

const ids = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `S${from + i}`);

describe('the keys of the participants table’s rows', () => {
  it('keeps an examinee’s key while they stay in the window, whatever the order', () => {
    const keys = new RowKeys();
    const first = keys.assign(['A', 'B', 'C'], undefined);
    const again = keys.assign(['C', 'A', 'B'], undefined);
    expect(again).toEqual([first[2], first[0], first[1]]);
  });

  it('hands the keys of those who left, in their order, to those who came, so a new list patches the rows', () => {
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
