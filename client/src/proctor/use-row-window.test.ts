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

  it('keeps the rendered window while it covers the view, and moves it once the view reaches its edge', () => {
    const view = 10 * ROW_HEIGHT_PX;
    const w = rowWindow(1_000, 100 * ROW_HEIGHT_PX, view);
    // A scroll of a few rows down or up: the same window, no row mounted.
    expect(rowWindow(1_000, (100 + OVERSCAN_ROWS - 1) * ROW_HEIGHT_PX, view, ROW_HEIGHT_PX, OVERSCAN_ROWS, w)).toBe(w);
    expect(rowWindow(1_000, (100 - OVERSCAN_ROWS) * ROW_HEIGHT_PX, view, ROW_HEIGHT_PX, OVERSCAN_ROWS, w)).toBe(w);
    // The last row in view just rendered: still kept; one row further, a new window around the view.
    expect(rowWindow(1_000, (100 + OVERSCAN_ROWS) * ROW_HEIGHT_PX, view, ROW_HEIGHT_PX, OVERSCAN_ROWS, w)).toBe(w);
    const further = rowWindow(1_000, (101 + OVERSCAN_ROWS) * ROW_HEIGHT_PX, view, ROW_HEIGHT_PX, OVERSCAN_ROWS, w);
    expect(further).toEqual(rowWindow(1_000, (101 + OVERSCAN_ROWS) * ROW_HEIGHT_PX, view));
    expect(rowWindow(1_000, (100 - OVERSCAN_ROWS) * ROW_HEIGHT_PX - 1, view, ROW_HEIGHT_PX, OVERSCAN_ROWS, w)).not.toBe(
      w,
    );
    // A window drawn for a taller view (printing): not kept once the view is short again.
    const tall = rowWindow(1_000, 100 * ROW_HEIGHT_PX, 100 * ROW_HEIGHT_PX);
    expect(rowWindow(1_000, 100 * ROW_HEIGHT_PX, view, ROW_HEIGHT_PX, OVERSCAN_ROWS, tall)).toEqual(w);
    // Another count (a filter) or row height: computed anew.
    expect(rowWindow(900, 100 * ROW_HEIGHT_PX, view, ROW_HEIGHT_PX, OVERSCAN_ROWS, w)).toEqual(
      rowWindow(900, 100 * ROW_HEIGHT_PX, view),
    );
    expect(rowWindow(1_000, 100 * ROW_HEIGHT_PX, view, 60, OVERSCAN_ROWS, w)).toEqual(
      rowWindow(1_000, 100 * ROW_HEIGHT_PX, view, 60),
    );
  });
});
