/**
 * Windowing of a long table with rows of one fixed height: only the rows in view (and an
 * overscan either side) are in the DOM, with a spacer above and below standing in for the rest,
 * so the scroll bar and the scroll position are those of the whole list. Recomputed on scroll
 * (a passive listener: scroll events come at most once per animation frame) and when the scroll
 * container resizes; the rows' height is measured then, not on every scroll.
 * Short lists are rendered whole: below WINDOW_FROM_ROWS rows nothing changes.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

/**
 * The height of one table row: a 44 px button (the touch target), 4 px padding above and below
 * and the border. CSS keeps every row at it (cells do not wrap); the hook measures a rendered row
 * as well, so a font that makes rows taller does not shift the window.
 */
export const ROW_HEIGHT_PX = 53;
/** Rows rendered beyond the visible ones on each side, so a quick scroll shows no gap. */
export const OVERSCAN_ROWS = 4;
/** From this many rows the table is windowed. */
export const WINDOW_FROM_ROWS = 60;

export interface RowWindow {
  /** First rendered row (inclusive) and last (exclusive). */
  start: number;
  end: number;
  /** Heights (px) of the spacers standing in for the rows above and below. */
  padTop: number;
  padBottom: number;
}

/**
 * The rows to render of `count` when `viewportPx` of the list is seen from `scrollTop`. With
 * `previous` (the window rendered now, of the same count and row height), that window is kept
 * while it still holds every row in view and is no bigger than this view needs: a scroll of a few
 * rows then mounts no row, and a new window (centred again, overscan either side) is drawn only
 * once the view reaches its edge or shrinks.
 */
export function rowWindow(
  count: number,
  scrollTop: number,
  viewportPx: number,
  rowHeight = ROW_HEIGHT_PX,
  overscan = OVERSCAN_ROWS,
  previous?: RowWindow,
): RowWindow {
  if (count < WINDOW_FROM_ROWS) return { start: 0, end: count, padTop: 0, padBottom: 0 };
  const visible = Math.ceil(Math.max(0, viewportPx) / rowHeight) + 1;
  // A scroll position from a longer list (before a filter) is clamped, as the browser will.
  const first = Math.min(Math.floor(Math.max(0, scrollTop) / rowHeight), Math.max(0, count - visible));
  if (
    previous !== undefined &&
    previous.start <= first &&
    Math.min(count, first + visible) <= previous.end &&
    previous.end <= count &&
    // Not a window drawn for a taller view (a print, a bigger window) than this one.
    previous.end - previous.start <= visible + 2 * overscan &&
    previous.padTop === previous.start * rowHeight &&
    previous.padBottom === (count - previous.end) * rowHeight
  )
    return previous;
  const start = Math.min(count, Math.max(0, first - overscan));
  const end = Math.min(count, first + visible + overscan);
  return { start, end, padTop: start * rowHeight, padBottom: (count - end) * rowHeight };
}

/**
 * The window of `count` rows inside the scroll container `el`. `toTop` scrolls the list to its
 * top and takes the window there in the same render as the change that calls it (a new search, a
 * filter, an order): without it the list would be drawn once at the old position and again when
 * the scroll event comes a frame later.
 */
export function useRowWindow(
  el: HTMLElement | null,
  count: number,
): RowWindow & { rowHeight: number; toTop: () => void } {
  const [view, setView] = useState({ scrollTop: 0, height: window.innerHeight, rowHeight: ROW_HEIGHT_PX });
  const windowed = count >= WINDOW_FROM_ROWS;

  useEffect(() => {
    if (el === null || !windowed) return;
    let rowHeight = ROW_HEIGHT_PX;
    // Reads only: called where layout is already up to date (a scroll event, before the frame's
    // animation callbacks write the DOM; a resize observation, after layout), never after a
    // write, so it forces no extra layout.
    const read = () => {
      const scrollTop = el.scrollTop;
      const height = el.clientHeight;
      setView((v) =>
        v.scrollTop === scrollTop && v.height === height && v.rowHeight === rowHeight
          ? v
          : { scrollTop, height, rowHeight },
      );
    };
    // The rows' height, when the container is laid out anew (its size, a font), not on every scroll.
    const measure = () => {
      const row = el.querySelector('tbody tr[data-student]')?.getBoundingClientRect().height;
      rowHeight = row === undefined || row < 1 ? ROW_HEIGHT_PX : row;
      read();
    };
    measure();
    // Scroll events come at most once per frame, before its animation callbacks.
    el.addEventListener('scroll', read, { passive: true });
    const resize = new ResizeObserver(measure);
    resize.observe(el);
    return () => {
      el.removeEventListener('scroll', read);
      resize.disconnect();
    };
  }, [el, windowed]);

  const toTop = useCallback(() => {
    if (el === null) return;
    if (el.scrollTop !== 0) el.scrollTop = 0;
    setView((v) => (v.scrollTop === 0 ? v : { ...v, scrollTop: 0 }));
  }, [el]);

  // The window rendered last, kept while it covers the view (rowWindow's `previous`).
  const last = useRef<RowWindow | undefined>(undefined);
  const next = rowWindow(count, view.scrollTop, view.height, view.rowHeight, OVERSCAN_ROWS, last.current);
  last.current = next;
  return { ...next, rowHeight: view.rowHeight, toTop };
}
