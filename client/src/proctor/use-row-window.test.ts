import { describe, expect, it } from 'vitest';
import { OVERSCAN_ROWS, ROW_HEIGHT_PX, rowWindow, WINDOW_FROM_ROWS } from './use-row-window';

describe('the participants table window', () => {
  it('renders a short list whole', () => {
    expect(rowWindow(WINDOW_FROM_ROWS - 1, 500, 300)).toEqual({
      start: 0,
      end: WINDOW_FROM_ROWS - 1,
      padTop: 0,
      padBottom: 0,
    });
  });

  it('renders the rows in view and the overscan, spacers standing in for the rest', () => {
    const w = rowWindow(1_000, 100 * ROW_HEIGHT_PX, 10 * ROW_HEIGHT_PX);
    expect(w.start).toBe(100 - OVERSCAN_ROWS);
    expect(w.end).toBe(100 + 11 + OVERSCAN_ROWS);
    expect(w.padTop + (w.end - w.start) * ROW_HEIGHT_PX + w.padBottom).toBe(1_000 * ROW_HEIGHT_PX);
  });

  it('stops at both ends', () => {
    expect(rowWindow(1_000, 0, 440)).toMatchObject({ start: 0, padTop: 0 });
    const bottom = rowWindow(1_000, 1_000 * ROW_HEIGHT_PX - 440, 440);
    expect(bottom).toMatchObject({ end: 1_000, padBottom: 0 });
    expect(rowWindow(1_000, 10 ** 9, 440)).toEqual(bottom);
  });
});
