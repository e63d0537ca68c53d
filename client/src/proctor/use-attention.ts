/**
 * What needs a proctor, from the monitor's live rows and messages (domain/attention.ts), and the
 * count in the document title: "(3) Physics 101".
 */
import { useEffect, useMemo, useRef } from 'preact/hooks';
import { attentionItems, openQuestions, type AttentionItem } from '../../../domain/attention.js';
import type { MonitorData } from './live';

export function useAttention(data: Pick<MonitorData, 'rows' | 'messages'>): AttentionItem[] {
  const previous = useRef<AttentionItem[]>([]);
  const items = useMemo(
    () => attentionItems(data.rows, openQuestions(data.messages), previous.current, Date.now()),
    [data.rows, data.messages],
  );
  useEffect(() => {
    previous.current = items;
  }, [items]);
  return items;
}

/**
 * While something waits, the count in the title changes at most this often: setting the title
 * costs a slow laptop a few milliseconds each time (the browser redraws the tab), and in a big
 * hall the count changes several times a second. Going from nothing waiting to something, and
 * back, shows at once.
 */
export const TITLE_EVERY_MS = 1_000;

/** What the title shows: when it was set, for which exam title, and whether with a count. */
export interface ShownTitle {
  at: number;
  title: string;
  counting: boolean;
}

/** How long (ms) the title waits before showing `count` for `title` at `now`: 0 for at once. */
export function titleWait(shown: ShownTitle, title: string, count: number, now: number): number {
  if (shown.title !== title || shown.counting !== count > 0) return 0;
  return Math.max(0, shown.at + TITLE_EVERY_MS - now);
}

/** Puts the count in front of the document title while something waits. */
export function useAttentionTitle(title: string, count: number) {
  const latest = useRef({ title, count });
  latest.current = { title, count };
  const timer = useRef<number | undefined>(undefined);
  const shown = useRef<ShownTitle>({ at: Number.NEGATIVE_INFINITY, title: '', counting: false });
  // Set once per change, not put back and set again: the title setter stood out in the profile.
  useEffect(() => {
    const before = document.title;
    return () => {
      window.clearTimeout(timer.current);
      document.title = before;
    };
  }, []);
  useEffect(() => {
    const apply = () => {
      timer.current = undefined;
      const now = latest.current;
      shown.current = { at: performance.now(), title: now.title, counting: now.count > 0 };
      const next = now.count > 0 ? `(${now.count}) ${now.title}` : now.title;
      if (document.title !== next) document.title = next;
    };
    const wait = titleWait(shown.current, title, count, performance.now());
    if (wait === 0) {
      window.clearTimeout(timer.current);
      apply();
    } else timer.current ??= window.setTimeout(apply, wait);
  }, [title, count]);
}
