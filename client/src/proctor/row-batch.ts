/**
 * Streamed row changes, coalesced so that the participants table re-renders at most once per
 * animation frame however many rows arrive (a hall of 1,000 sends ~20 a second). Each row is an
 * examinee's whole current row, so the last one received for a student id wins and no change is
 * lost. requestAnimationFrame does not run in a hidden tab: a timer flushes then as well, so a
 * proctor who comes back to the tab sees every change at once.
 */
import type { ParticipantRow } from './api';

/** Puts `changes` in place in `rows` (new students at the end), in one pass. */
export function applyRowChanges(
  rows: readonly ParticipantRow[],
  changes: ReadonlyMap<string, ParticipantRow>,
): ParticipantRow[] {
  const left = new Map(changes);
  const next = rows.map((r) => {
    const changed = left.get(r.studentId);
    if (changed === undefined) return r;
    left.delete(r.studentId);
    return changed;
  });
  return left.size === 0 ? next : [...next, ...left.values()];
}

export interface FrameScheduler {
  requestFrame(run: () => void): () => void;
  /** The fallback when no frame comes (a hidden tab). */
  setTimer(run: () => void, ms: number): () => void;
}

export const BROWSER_SCHEDULER: FrameScheduler = {
  requestFrame(run) {
    const id = requestAnimationFrame(run);
    return () => cancelAnimationFrame(id);
  },
  setTimer(run, ms) {
    const id = setTimeout(run, ms);
    return () => clearTimeout(id);
  },
};

/** How long a batch waits at most when no animation frame comes. */
export const HIDDEN_FLUSH_MS = 250;

export interface RowBatcher {
  /** Queues a row; the batch is flushed on the next frame (or by the timer). */
  push(row: ParticipantRow): void;
  /** Applies what is queued now (an action's own answer must not wait behind older rows). */
  flush(): void;
  /** Forgets what is queued and stops the timers (a fresh snapshot supersedes it; the stream closed). */
  clear(): void;
}

/** Coalesces rows and hands each batch to `apply` at most once per frame. */
export function rowBatcher(
  apply: (changes: ReadonlyMap<string, ParticipantRow>) => void,
  scheduler: FrameScheduler = BROWSER_SCHEDULER,
): RowBatcher {
  let pending = new Map<string, ParticipantRow>();
  let cancels: (() => void)[] = [];
  const cancel = () => {
    for (const c of cancels) c();
    cancels = [];
  };
  const flush = () => {
    cancel();
    if (pending.size === 0) return;
    const batch = pending;
    pending = new Map();
    apply(batch);
  };
  return {
    push(row) {
      pending.set(row.studentId, row);
      if (cancels.length > 0) return;
      // Whichever comes first: the next frame, or the timer of a hidden tab.
      cancels = [scheduler.requestFrame(flush), scheduler.setTimer(flush, HIDDEN_FLUSH_MS)];
    },
    flush,
    clear() {
      cancel();
      pending = new Map();
    },
  };
}
