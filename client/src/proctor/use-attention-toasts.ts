/**
 * The toasts for what newly needs a proctor (newAttention in domain/attention.ts), and the
 * optional sound. What already waits when the dashboard loads is counted but not announced; a
 * toast goes when its item is acted on, when dismissed, or after TOAST_MS (paused while the
 * proctor points at or is inside the toasts). The sound is off unless this proctor turned it on.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { newAttention, type AttentionItem } from '../../../domain/attention.js';

export const TOAST_MS = 10_000;
export const MAX_TOASTS = 3;

export interface AttentionToast {
  key: string;
  item: AttentionItem;
  /** Epoch ms it was shown (or the timer restarted). */
  shownAt: number;
}

const keyOf = (item: Pick<AttentionItem, 'kind' | 'studentId'>) => `${item.kind}|${item.studentId}`;

export function useAttentionToasts(
  items: readonly AttentionItem[],
  loaded: boolean,
  onArrival: (fresh: AttentionItem[]) => void,
) {
  const previous = useRef<readonly AttentionItem[] | undefined>(undefined);
  const [toasts, setToasts] = useState<AttentionToast[]>([]);
  const [paused, setPaused] = useState(false);
  const arrival = useRef(onArrival);
  arrival.current = onArrival;

  useEffect(() => {
    if (!loaded) return;
    const before = previous.current;
    previous.current = items;
    const waiting = new Set(items.map(keyOf));
    const fresh = before === undefined ? [] : newAttention(before, items);
    const now = Date.now();
    setToasts((current) => {
      const kept = current.filter((t) => waiting.has(t.key));
      if (fresh.length === 0) return kept.length === current.length ? current : kept;
      const added = fresh.map((item) => ({ key: keyOf(item), item, shownAt: now })).reverse();
      return [...added, ...kept.filter((t) => !added.some((a) => a.key === t.key))].slice(0, MAX_TOASTS);
    });
    if (fresh.length > 0) arrival.current(fresh);
  }, [items, loaded]);

  useEffect(() => {
    if (paused || toasts.length === 0) return;
    const first = Math.min(...toasts.map((t) => t.shownAt));
    const timer = setTimeout(
      () => setToasts((current) => current.filter((t) => Date.now() - t.shownAt < TOAST_MS)),
      Math.max(0, first + TOAST_MS - Date.now()),
    );
    return () => clearTimeout(timer);
  }, [toasts, paused]);

  const dismiss = useCallback((key: string) => setToasts((current) => current.filter((t) => t.key !== key)), []);
  const pause = useCallback((on: boolean) => {
    setPaused(on);
    // Back from a pause, each toast gets its full time again.
    if (!on) setToasts((current) => current.map((t) => ({ ...t, shownAt: Date.now() })));
  }, []);
  return { toasts, dismiss, pause };
}

const soundKey = (username: string) => `proctor.attention-sound:${username}`;

function readSetting(username: string): boolean {
  try {
    return localStorage.getItem(soundKey(username)) === 'on';
  } catch {
    return false; // storage blocked: the default, off
  }
}

let audio: AudioContext | undefined;

/** An AudioContext, made or resumed inside a click so that the browser lets it play later. */
function audioContext(): AudioContext | undefined {
  try {
    if (audio === undefined && typeof AudioContext !== 'undefined') audio = new AudioContext();
    if (audio?.state === 'suspended') void audio.resume().catch(() => undefined);
    return audio;
  } catch {
    return undefined;
  }
}

/** A short two-note tone from an oscillator; silent (never a throw) where audio is unavailable. */
export function playChime(): void {
  try {
    const ctx = audioContext();
    if (ctx === undefined) return;
    const start = ctx.currentTime;
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = 'sine';
    osc.frequency.setValueAtTime(880, start);
    osc.frequency.setValueAtTime(660, start + 0.15);
    gain.gain.setValueAtTime(0.2, start);
    gain.gain.exponentialRampToValueAtTime(0.001, start + 0.35);
    osc.connect(gain).connect(ctx.destination);
    osc.start(start);
    osc.stop(start + 0.35);
  } catch {
    // No sound on this device; the toast and the count still say it.
  }
}

/** The per-proctor sound setting (off by default), kept in this browser under their username. */
export function useAttentionSound(username: string): [boolean, (on: boolean) => void] {
  const [on, setOn] = useState(() => readSetting(username));
  useEffect(() => setOn(readSetting(username)), [username]);
  const set = useCallback(
    (value: boolean) => {
      setOn(value);
      if (value) audioContext();
      try {
        localStorage.setItem(soundKey(username), value ? 'on' : 'off');
      } catch {
        // Storage blocked: the setting lasts for this page only.
      }
    },
    [username],
  );
  return [on, set];
}
