/**
 * The attempt on this device (local-db.ts AttemptDoc) as the exam screen uses it: the stored
 * document, followed as it changes (also by another tab), and the changes the screen makes to it.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { AttemptDoc, LocalDb, LockReason } from './local-db';

export function useAttempt(db: LocalDb, initial: AttemptDoc): AttemptDoc {
  const [attempt, setAttempt] = useState<AttemptDoc>(initial);
  useEffect(() => {
    const sub = db.attempts.findOne(initial.id).$.subscribe((d) => d && setAttempt(d.toMutableJSON()));
    return () => sub.unsubscribe();
  }, [db, initial.id]);
  return attempt;
}

export interface AttemptActions {
  /** Locks the exam on this device (persisted: a reload stays locked); not once sealed. */
  lock(reason: LockReason, at: number): Promise<void>;
  unlock(): Promise<void>;
  /** Marks resume-code challenges as used on this device. */
  spend(challenges: readonly string[]): Promise<void>;
  /** The deadline moved (an extension). */
  setDeadline(deadline: number): Promise<void>;
  /** The question shown (navigation comes back to it). */
  showQuestion(questionId: string): Promise<void>;
  /** Changes the attempt if `change` says so (undefined: leave it). */
  update(change: (a: AttemptDoc) => Partial<AttemptDoc> | undefined): Promise<void>;
}

export function useAttemptActions(db: LocalDb, id: string): AttemptActions {
  return useMemo(() => {
    const update = async (change: (a: AttemptDoc) => Partial<AttemptDoc> | undefined) => {
      const doc = await db.attempts.findOne(id).exec();
      if (!doc) return;
      await doc.incrementalModify((a) => {
        const patch = change(a);
        return patch ? { ...a, ...patch } : a;
      });
    };
    return {
      update,
      lock: (reason, at) =>
        update((a) =>
          a.lock !== null || a.sealed !== null || a.receipt !== null ? undefined : { lock: { reason, at } },
        ),
      unlock: () => update((a) => (a.lock === null ? undefined : { lock: null })),
      spend: (challenges) =>
        update((a) =>
          challenges.every((c) => a.spent.includes(c))
            ? undefined
            : { spent: [...new Set([...a.spent, ...challenges])] },
        ),
      setDeadline: (deadline) => update((a) => (a.deadline === deadline ? undefined : { deadline })),
      showQuestion: (questionId) =>
        update((a) => (a.currentQuestionId === questionId ? undefined : { currentQuestionId: questionId })),
    };
  }, [db, id]);
}
