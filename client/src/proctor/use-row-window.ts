/**
 * Windowing of a long table with rows of one fixed height: only the rows in view (and an
 * overscan either side) are in the DOM, with a spacer above and below standing in for the rest,
 * so the scroll bar and the scroll position are those of the whole list. Recomputed on scroll
 * (a passive listener, at most once per animation frame) and when the scroll container resizes.
 * Short lists are rendered whole: below WINDOW_FROM_ROWS rows nothing changes.
 */
import { useEffect, useState } from 'preact/hooks';

/**
 * The height of one table row: a 44 px button (the touch target), 4 px padding above and below
 * and the border. CSS keeps every row at it (cells do not wrap); the hook measures a rendered row
 * as well, so a font that makes rows taller does not shift the window.
 */
export const ROW_HEIGHT_PX = 53;
/** Rows rendered beyond the visible ones on each side, so a quick scroll shows no gap. */
export const OVERSCAN_ROWS = 10;
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

/** The rows to render of `count` when `viewportPx` of the list is seen from `scrollTop`. */
export function rowWindow(
  count: number,
  scrollTop: number,
  viewportPx: number,
  rowHeight = ROW_HEIGHT_PX,
  overscan = OVERSCAN_ROWS,
): RowWindow {
  if (count < WINDOW_FROM_ROWS) return { start: 0, end: count, padTop: 0, padBottom: 0 };
  const visible = Math.ceil(Math.max(0, viewportPx) / rowHeight) + 1;
  // A scroll position from a longer list (before a filter) is clamped, as the browser will.
  const first = Math.min(Math.floor(Math.max(0, scrollTop) / rowHeight), Math.max(0, count - visible));
  const start = Math.min(count, Math.max(0, first - overscan));
  const end = Math.min(count, first + visible + overscan);
  return { start, end, padTop: start * rowHeight, padBottom: (count - end) * rowHeight };
}

/** The window of `count` rows inside the scroll container `el`. */
export function useRowWindow(el: HTMLElement | null, count: number): RowWindow & { rowHeight: number } {
  const [view, setView] = useState({ scrollTop: 0, height: window.innerHeight, rowHeight: ROW_HEIGHT_PX });
  const windowed = count >= WINDOW_FROM_ROWS;

  useEffect(() => {
    if (el === null || !windowed) return;
    let frame: number | undefined;
    const measure = () => {
      frame = undefined;
      const row = el.querySelector('tbody tr[data-student]')?.getBoundingClientRect().height;
      const rowHeight = row === undefined || row < 1 ? ROW_HEIGHT_PX : row;
      setView((v) =>
        v.scrollTop === el.scrollTop && v.height === el.clientHeight && v.rowHeight === rowHeight
          ? v
          : { scrollTop: el.scrollTop, height: el.clientHeight, rowHeight },
      );
    };
    const onScroll = () => {
      frame ??= requestAnimationFrame(measure);
    };
    measure();
    el.addEventListener('scroll', onScroll, { passive: true });
    const resize = new ResizeObserver(onScroll);
    resize.observe(el);
    return () => {
      el.removeEventListener('scroll', onScroll);
      resize.disconnect();
      if (frame !== undefined) cancelAnimationFrame(frame);
    };
  }, [el, windowed]);

  return { ...rowWindow(count, view.scrollTop, view.height, view.rowHeight), rowHeight: view.rowHeight };
}
