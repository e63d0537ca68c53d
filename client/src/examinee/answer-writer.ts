/**
 * Writes the examinee's answers behind the fields (DESIGN.md "Answers in the browser").
 *
 * The field that has focus owns its text: it keeps it in state updated synchronously in its
 * input handler and hands every change here, synchronously too. The writer keeps the newest
 * value of each question and writes them to the device's answer sheet (RxDB) coalesced: at most
 * one write every `delayMs` (300 ms) while typing goes on, and at once when `flush()` is called
 * (blur, question change, sealing, `visibilitychange` to hidden, `pagehide`). Choices (radio
 * buttons, check boxes, flags) are written at once.
 *
 * Every write adds one to the sheet's counter and sets the version of each question it changes
 * to that counter (domain/answer-sheet.ts), so that no older value of a question can overwrite a
 * newer one later (the appliance and the device's conflict handler merge question by question).
 * Writes never overlap: one finishes before the next starts, so they land in the order made.
 *
 * A field asks `busy(questionId)` before it takes a value from the store: while the writer holds
 * or is writing a value of that question, what the store says about it is older than the field.
 */
import type { AnswerValue } from '../../../domain/answers.js';
import type { SheetDoc } from './local-db';

/** The device's answer sheet, as the writer uses it. */
export interface SheetStore {
  /** Applies `change` to the stored sheet (atomically, retried on a concurrent write). */
  modify(change: (sheet: SheetDoc) => SheetDoc): Promise<SheetDoc>;
}

/** What a question's next write changes: its answer (undefined: cleared), its flag, or both. */
export interface AnswerChange {
  answer?: { value: AnswerValue | undefined };
  flagged?: boolean;
}

export interface WriterEvents {
  /** The sheet as it stands after a write. */
  written?: (sheet: SheetDoc) => void;
  /** Whether the writer holds changes not yet on the device's storage. */
  dirty?: (dirty: boolean) => void;
  /** A write failed (it is retried). */
  failed?: (error: unknown) => void;
}

export const WRITE_DELAY_MS = 300;
/** Pause before a failed write is tried again. */
const RETRY_MS = 1_000;

export class AnswerWriter {
  private pending = new Map<string, AnswerChange>();
  private writing = new Set<string>();
  /** The batches being written (or queued to be), oldest first. */
  private inFlight: Map<string, AnswerChange>[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private chain: Promise<void> = Promise.resolve();
  private wasDirty = false;
  private stopped = false;
  private readonly listeners = new Set<WriterEvents>();
  /** Writes made (for the client benchmark: writes per typed character). */
  writes = 0;

  constructor(
    private readonly store: SheetStore,
    private readonly delayMs = WRITE_DELAY_MS,
  ) {}

  /** Listens to the writer's events; returns the function that stops listening. */
  on(events: WriterEvents): () => void {
    this.listeners.add(events);
    return () => this.listeners.delete(events);
  }

  /** The newest answer to a question (written behind: at once with `now`, else coalesced). */
  setAnswer(questionId: string, value: AnswerValue | undefined, options: { now?: boolean } = {}): void {
    this.change(questionId, { answer: { value } }, options.now ?? false);
  }

  /** Flags or unflags a question (written at once). */
  setFlag(questionId: string, flagged: boolean): void {
    this.change(questionId, { flagged }, true);
  }

  /** Whether a value of this question is held or being written (the store's is older). */
  busy(questionId: string): boolean {
    return this.pending.has(questionId) || this.writing.has(questionId);
  }

  /**
   * Every change not yet on the device's storage, held or being written, newest winning: what a
   * page that is going must keep elsewhere (unsaved-answers.ts).
   */
  unsaved(): Map<string, AnswerChange> {
    const all = new Map<string, AnswerChange>();
    for (const batch of [...this.inFlight, this.pending])
      for (const [q, change] of batch) all.set(q, { ...all.get(q), ...change });
    return all;
  }

  /** Whether any change is not yet on the device's storage. */
  get dirty(): boolean {
    return this.pending.size > 0 || this.writing.size > 0;
  }

  /** Writes every held change now; resolves once they (and any write before) are stored. */
  flush(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0) return this.chain;
    const batch = this.pending;
    this.pending = new Map();
    for (const q of batch.keys()) this.writing.add(q);
    this.inFlight.push(batch);
    this.chain = this.chain.then(() => this.write(batch));
    return this.chain;
  }

  /** Stops the timer (what is held is flushed first). */
  async stop(): Promise<void> {
    await this.flush();
    this.stopped = true;
  }

  private change(questionId: string, change: AnswerChange, now: boolean): void {
    const held = this.pending.get(questionId) ?? {};
    this.pending.set(questionId, { ...held, ...change });
    this.announceDirty();
    if (now || this.stopped) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.delayMs);
  }

  private async write(batch: Map<string, AnswerChange>): Promise<void> {
    const done = () => (this.inFlight = this.inFlight.filter((b) => b !== batch));
    try {
      const sheet = await this.store.modify((d) => applyChanges(d, batch));
      this.writes++;
      done();
      for (const q of batch.keys()) this.writing.delete(q);
      for (const l of this.listeners) l.written?.(sheet);
    } catch (error) {
      // Kept for the next try, unless a newer value of the question came meanwhile.
      done();
      for (const [q, change] of batch) {
        this.writing.delete(q);
        const newer = this.pending.get(q);
        this.pending.set(q, { ...change, ...newer });
      }
      for (const l of this.listeners) l.failed?.(error);
      this.timer ??= setTimeout(() => void this.flush(), RETRY_MS);
    }
    this.announceDirty();
  }

  private announceDirty(): void {
    const dirty = this.dirty;
    if (dirty === this.wasDirty) return;
    this.wasDirty = dirty;
    for (const l of this.listeners) l.dirty?.(dirty);
  }
}

/** The sheet with the changes applied: one more on the counter, which versions what changed. */
export function applyChanges(sheet: SheetDoc, changes: ReadonlyMap<string, AnswerChange>): SheetDoc {
  const counter = sheet.counter + 1;
  const answers = { ...sheet.answers };
  const flagged = new Set(sheet.flagged);
  const versions = { ...sheet.versions };
  for (const [q, change] of changes) {
    if (change.answer) {
      if (change.answer.value === undefined) delete answers[q];
      else answers[q] = change.answer.value;
    }
    if (change.flagged === true) flagged.add(q);
    else if (change.flagged === false) flagged.delete(q);
    versions[q] = counter;
  }
  return { ...sheet, counter, answers, flagged: [...flagged], versions };
}
