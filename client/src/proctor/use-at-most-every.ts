/**
 * A value shown at most once every so often: for the hall's summaries (the tracking totals and
 * the progress picture), which a big hall's autosaves would otherwise redraw with every update,
 * 20 times a second with 1,000 examinees, each time counting all the rows again and restyling,
 * laying out and painting those figures. The rows of the table still follow every update.
 *
 * A change after a quiet spell shows at once; changes closer together show at most once every
 * `everyMs`, the latest one last, so the figures are never more than `everyMs` behind.
 */
import { useEffect, useReducer, useRef } from 'preact/hooks';

/** How often the summaries above the participants list follow the live rows. */
export const SUMMARY_EVERY_MS = 1_000;

interface Shown<T> {
  value: T;
  at: number;
}

/** Whether `next` may replace what was shown `at`, at `now`; else how long (ms) it waits. */
export function waitToShow(at: number, now: number, everyMs: number): number {
  return Math.max(0, at + everyMs - now);
}

export function useAtMostEvery<T>(value: T, everyMs: number): T {
  const shown = useRef<Shown<T>>({ value, at: Number.NEGATIVE_INFINITY });
  const [, redraw] = useReducer((n: number) => n + 1, 0);
  const now = performance.now();
  const wait = Object.is(value, shown.current.value) ? 0 : waitToShow(shown.current.at, now, everyMs);
  if (!Object.is(value, shown.current.value) && wait === 0) shown.current = { value, at: now };
  const pending = !Object.is(value, shown.current.value);
  useEffect(() => {
    if (!pending) return undefined;
    const timer = window.setTimeout(redraw, wait);
    return () => window.clearTimeout(timer);
  }, [pending, wait]);
  return shown.current.value;
}
