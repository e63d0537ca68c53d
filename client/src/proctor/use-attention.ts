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

/** Puts the count in front of the document title while something waits. */
export function useAttentionTitle(title: string, count: number) {
  // Set once per change, not put back and set again: the title setter stood out in the profile.
  useEffect(() => {
    const before = document.title;
    return () => {
      document.title = before;
    };
  }, []);
  useEffect(() => {
    const next = count > 0 ? `(${count}) ${title}` : title;
    if (document.title !== next) document.title = next;
  }, [title, count]);
}
