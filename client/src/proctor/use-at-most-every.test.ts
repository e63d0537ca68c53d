import { describe, expect, it } from 'vitest';
import { SUMMARY_EVERY_MS, waitToShow } from './use-at-most-every';

describe('a value shown at most once every so often', () => {
  it('shows a change at once after a quiet spell, and the first change at once', () => {
    expect(waitToShow(Number.NEGATIVE_INFINITY, 0, SUMMARY_EVERY_MS)).toBe(0);
    expect(waitToShow(10_000, 10_000 + SUMMARY_EVERY_MS, SUMMARY_EVERY_MS)).toBe(0);
    expect(waitToShow(10_000, 99_000, SUMMARY_EVERY_MS)).toBe(0);
  });

  it('holds a change that follows another closely until everyMs after the last one shown', () => {
    expect(waitToShow(10_000, 10_000, SUMMARY_EVERY_MS)).toBe(SUMMARY_EVERY_MS);
    expect(waitToShow(10_000, 10_250, SUMMARY_EVERY_MS)).toBe(SUMMARY_EVERY_MS - 250);
    expect(waitToShow(10_000, 10_999, 1_000)).toBe(1);
  });
});
