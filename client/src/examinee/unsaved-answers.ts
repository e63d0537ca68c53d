/**
 * What the answer writer still held when the page was left, kept where a leaving page can still
 * write: localStorage, synchronously, in the `pagehide` handler.
 *
 * The writer flushes on `pagehide` too, but that write to RxDB (IndexedDB) takes several turns of
 * the event loop, and a page being reloaded or closed gets none: what was typed in the last
 * 300 ms (the writer's coalescing delay) was lost on a reload right after the last key. So the
 * held changes are also stashed here, and the next load of the exam applies them to the device's
 * sheet before the fields are shown (as a write of their own: a new counter and versions,
 * replicated as usual), then forgets them. A write that ends with nothing held forgets the stash
 * too, so it never outlives the changes it holds (a page kept in the back/forward cache, a flush
 * that did finish). A tab that is killed gets no `pagehide` either: what it held is lost, at most
 * the last 300 ms of typing (docs/client.md).
 *
 * Format: key `exam-hall.unsaved:<sheet id>`, value JSON `{ schemaVersion: 1, changes:
 * [[questionId, change], ...] }`, a change being `{ answer?: { value? }, flagged? }` (an answer
 * without `value` is a cleared answer).
 */
import type { AnswerChange } from './answer-writer';

const PREFIX = 'exam-hall.unsaved:';
const SCHEMA_VERSION = 1;

/** The part of Storage used (localStorage in the app, a map in tests). */
export type UnsavedStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

/** Keeps `changes` of the sheet (none: forgets what was kept). */
export function stashUnsaved(
  sheetId: string,
  changes: ReadonlyMap<string, AnswerChange>,
  storage: UnsavedStorage = localStorage,
): void {
  if (changes.size === 0) return forgetUnsaved(sheetId, storage);
  try {
    storage.setItem(PREFIX + sheetId, JSON.stringify({ schemaVersion: SCHEMA_VERSION, changes: [...changes] }));
  } catch {
    // Storage full or refused: nothing more can be done by a page that is going.
  }
}

/** The changes kept for the sheet, if any (a damaged entry counts as none). */
export function unsavedChanges(
  sheetId: string,
  storage: UnsavedStorage = localStorage,
): Map<string, AnswerChange> | undefined {
  const raw = storage.getItem(PREFIX + sheetId);
  if (raw === null) return undefined;
  try {
    const parsed = JSON.parse(raw) as { schemaVersion?: unknown; changes?: unknown };
    if (parsed.schemaVersion !== SCHEMA_VERSION || !Array.isArray(parsed.changes)) return undefined;
    const changes = new Map<string, AnswerChange>();
    for (const entry of parsed.changes as unknown[]) {
      if (!Array.isArray(entry) || typeof entry[0] !== 'string' || typeof entry[1] !== 'object' || entry[1] === null)
        return undefined;
      const change = entry[1] as { answer?: unknown; flagged?: unknown };
      changes.set(entry[0], {
        ...(typeof change.answer === 'object' && change.answer !== null
          ? { answer: change.answer as AnswerChange['answer'] & object }
          : {}),
        ...(typeof change.flagged === 'boolean' ? { flagged: change.flagged } : {}),
      });
    }
    return changes;
  } catch {
    return undefined;
  }
}

/** Forgets what was kept for the sheet. */
export function forgetUnsaved(sheetId: string, storage: UnsavedStorage = localStorage): void {
  storage.removeItem(PREFIX + sheetId);
}
