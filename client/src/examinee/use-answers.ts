/**
 * The answers of the exam in progress, as hooks with one job each:
 *
 * - useAnswerSheet: the device's sheet as stored (RxDB), and whether it has been read yet (the
 *   questions are shown only then, so a field never starts empty over stored text).
 * - useAnswerWriter: the writer behind the fields (answer-writer.ts), flushed when the page is
 *   hidden or left; on `pagehide` what it holds is also kept in localStorage (unsaved-answers.ts)
 *   and applied by useAnswerSheet at the next load, before any field is shown.
 * - useAnswerField / useFlagField: one question's value or flag. The field owns what is being
 *   typed: its value is local state set synchronously in the input handler; the store's value
 *   is taken only while the field has no focus, the writer holds nothing of the question, and
 *   the store's version of the question is newer than anything the field has shown or written.
 * - useAnswerSaving: the indicator, from the answers alone: saved as soon as the appliance holds
 *   the device's sheet as it stands (and nothing typed is still held by the writer).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { AnswerValue } from '../../../domain/answers.js';
import { AnswerWriter, applyChanges } from './answer-writer';
import { startAnswerSync, type SyncReport } from './answer-sync';
import type { LocalDb, SheetDoc } from './local-db';
import { forgetUnsaved, stashUnsaved, unsavedChanges } from './unsaved-answers';

/** Applies what the writer held when the page was last left to the stored sheet, then forgets it. */
async function restoreUnsaved(db: LocalDb, id: string): Promise<void> {
  const changes = unsavedChanges(id);
  if (!changes) return;
  try {
    const doc = await db.sheets.findOne(id).exec();
    if (doc) await doc.incrementalModify((d) => applyChanges(d, changes));
    forgetUnsaved(id);
  } catch {
    // Kept for the next load; the stored sheet is shown meanwhile.
  }
}

export function useAnswerSheet(db: LocalDb, id: string): { sheet: SheetDoc; loaded: boolean } {
  const [state, setState] = useState<{ sheet: SheetDoc; loaded: boolean }>({
    sheet: { id, counter: 0, answers: {}, flagged: [], versions: {} },
    loaded: false,
  });
  useEffect(() => {
    let sub: { unsubscribe(): void } | undefined;
    let gone = false;
    // What the writer held when the page was last left goes in first (unsaved-answers.ts), so
    // that no field is ever shown without it.
    void restoreUnsaved(db, id).finally(() => {
      if (gone) return;
      sub = db.sheets.findOne(id).$.subscribe((d) => {
        if (d) setState({ sheet: d.toMutableJSON(), loaded: true });
      });
    });
    return () => {
      gone = true;
      sub?.unsubscribe();
    };
  }, [db, id]);
  return state;
}

export function useAnswerWriter(db: LocalDb, id: string): AnswerWriter {
  const [writer] = useState(
    () =>
      new AnswerWriter({
        async modify(change) {
          const doc = await db.sheets.findOne(id).exec();
          if (!doc) throw new Error(`answer sheet ${id} is not on this device`);
          return (await doc.incrementalModify(change)).toMutableJSON();
        },
      }),
  );
  useEffect(() => {
    const hidden = () => {
      if (document.visibilityState === 'hidden') void writer.flush();
    };
    let stashed = false;
    const leaving = () => {
      // The flush cannot finish in a page that is going: what it writes is kept synchronously too.
      const unsaved = writer.unsaved();
      stashUnsaved(id, unsaved);
      stashed = unsaved.size > 0;
      void writer.flush();
    };
    const stopListening = writer.on({
      written: () => {
        if (!stashed || writer.dirty) return;
        forgetUnsaved(id);
        stashed = false;
      },
    });
    document.addEventListener('visibilitychange', hidden);
    window.addEventListener('pagehide', leaving);
    return () => {
      document.removeEventListener('visibilitychange', hidden);
      window.removeEventListener('pagehide', leaving);
      stopListening();
      void writer.stop();
    };
  }, [writer, id]);
  return writer;
}

/** What a field binds to its element, so that it knows when it has the focus. */
export interface FieldBinding<E extends HTMLElement> {
  ref: { current: E | null };
  onFocus: () => void;
  onBlur: () => void;
}

/**
 * Keeps the field's own value and the highest version of its question it has shown or written;
 * takes the store's value only when the field does not own the question.
 */
function useOwnedValue<T, E extends HTMLElement>(
  writer: AnswerWriter,
  questionId: string,
  stored: T,
  storedVersion: number,
  equal: (a: T, b: T) => boolean,
): { value: T; setValue: (v: T) => void; bind: FieldBinding<E> } {
  const [value, setValue] = useState(stored);
  const seen = useRef(storedVersion);
  const focused = useRef(false);
  const ref = useRef<E | null>(null);

  // The writer's own writes: the store will echo them; they are not news to the field.
  useEffect(
    () =>
      writer.on({
        written: (sheet) => {
          const v = sheet.versions[questionId];
          if (v !== undefined && v > seen.current) seen.current = v;
        },
      }),
    [writer, questionId],
  );

  useEffect(() => {
    const hasFocus = focused.current || (ref.current !== null && ref.current === document.activeElement);
    if (hasFocus || writer.busy(questionId) || storedVersion <= seen.current) return;
    seen.current = storedVersion;
    setValue((shown) => (equal(shown, stored) ? shown : stored));
  }, [writer, questionId, stored, storedVersion, equal]);

  return {
    value,
    setValue,
    bind: {
      ref,
      onFocus: () => {
        focused.current = true;
      },
      onBlur: () => {
        focused.current = false;
        void writer.flush();
      },
    },
  };
}

const sameAnswer = (a: AnswerValue | undefined, b: AnswerValue | undefined) =>
  a === b || JSON.stringify(a) === JSON.stringify(b);
const sameFlag = (a: boolean, b: boolean) => a === b;

/** One question's answer: `change` sets it at once on screen and writes it behind. */
export function useAnswerField<E extends HTMLElement = HTMLElement>(
  writer: AnswerWriter,
  questionId: string,
  sheet: SheetDoc,
): {
  value: AnswerValue | undefined;
  change: (value: AnswerValue | undefined, options?: { now?: boolean }) => void;
  bind: FieldBinding<E>;
} {
  const owned = useOwnedValue<AnswerValue | undefined, E>(
    writer,
    questionId,
    sheet.answers[questionId],
    sheet.versions[questionId] ?? 0,
    sameAnswer,
  );
  const { setValue } = owned;
  return {
    value: owned.value,
    bind: owned.bind,
    change: (value, options) => {
      setValue(value);
      writer.setAnswer(questionId, value, options);
    },
  };
}

/** One question's flag, written at once. */
export function useFlagField(
  writer: AnswerWriter,
  questionId: string,
  sheet: SheetDoc,
): { flagged: boolean; change: (flagged: boolean) => void } {
  const owned = useOwnedValue<boolean, HTMLInputElement>(
    writer,
    questionId,
    sheet.flagged.includes(questionId),
    sheet.versions[questionId] ?? 0,
    sameFlag,
  );
  const { setValue } = owned;
  return {
    flagged: owned.value,
    change: (flagged) => {
      setValue(flagged);
      writer.setFlag(questionId, flagged);
    },
  };
}

/** What the indicator shows about the answers. */
export type SavingState =
  /** The appliance holds every answer as it stands on the device. */
  | 'saved'
  /** Answers are on their way to the device's storage or to the appliance. */
  | 'saving'
  /** No network or no appliance: answers are kept on this device. */
  | 'offline'
  /** The appliance no longer takes answers (time over, submitted, session moved). */
  | 'refused';

/**
 * Replicates the sheet while the exam runs (not once sealed) and says where the answers are.
 * `onRefused` gets the appliance's refusal code (e.g. the session moved to another device).
 */
export function useAnswerSaving(options: {
  db: LocalDb;
  token: string;
  id: string;
  writer: AnswerWriter;
  sheetCounter: number;
  running: boolean;
  online: boolean;
  onRefused?: (code: string) => void;
}): SavingState {
  const { db, token, id, writer, running } = options;
  const [report, setReport] = useState<SyncReport>({ acknowledged: 0, problem: undefined });
  const [dirty, setDirty] = useState(writer.dirty);
  const onRefused = useRef(options.onRefused);
  onRefused.current = options.onRefused;

  useEffect(() => writer.on({ dirty: setDirty }), [writer]);

  useEffect(() => {
    if (!running) return;
    const replication = startAnswerSync(db, {
      token,
      sheetId: id,
      onRefused: (code) => onRefused.current?.(code),
    });
    const sub = replication.report$.subscribe(setReport);
    return () => {
      sub.unsubscribe();
      void replication.stop();
    };
  }, [db, token, id, running]);

  if (report.problem === 'refused') return 'refused';
  if (!options.online || report.problem === 'offline') return 'offline';
  if (dirty || report.acknowledged < options.sheetCounter) return 'saving';
  return 'saved';
}
