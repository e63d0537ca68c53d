import { describe, expect, it } from 'vitest';
import { AnswerWriter, applyChanges } from './answer-writer';
import type { SheetDoc } from './local-db';
import { memoryStorage } from './outbox';
import { forgetUnsaved, stashUnsaved, unsavedChanges } from './unsaved-answers';

const empty = (): SheetDoc => ({ id: 'exam-1:S1', counter: 0, answers: {}, flagged: [], versions: {} });

/** A store whose writes wait until released (a page that goes before they finish). */
function slowStore() {
  let sheet = empty();
  const waiting: (() => void)[] = [];
  return {
    get sheet() {
      return sheet;
    },
    release: () => waiting.splice(0).forEach((go) => go()),
    modify: (change: (d: SheetDoc) => SheetDoc) =>
      new Promise<SheetDoc>((resolve) =>
        waiting.push(() => {
          sheet = change(sheet);
          resolve(sheet);
        }),
      ),
  };
}

describe('what the writer held when the page was left', () => {
  it('is every change held or being written, newest winning', () => {
    const store = slowStore();
    const writer = new AnswerWriter(store, 300);
    writer.setAnswer('q4', 'Written behi');
    void writer.flush();
    // The first write is under way (it never finishes: the page goes); typing went on.
    writer.setAnswer('q4', 'Written behind, and more');
    writer.setFlag('q2', true);
    writer.setAnswer('q3', undefined);
    expect([...writer.unsaved()]).toEqual([
      ['q4', { answer: { value: 'Written behind, and more' } }],
      ['q2', { flagged: true }],
      ['q3', { answer: { value: undefined } }],
    ]);
  });

  it('is kept in storage and applied to the sheet at the next load as it was', () => {
    const storage = memoryStorage();
    const writer = new AnswerWriter(slowStore(), 300);
    writer.setAnswer('q4', 'Entropy は ways');
    writer.setFlag('q4', true);
    writer.setAnswer('q3', undefined);
    stashUnsaved('exam-1:S1', writer.unsaved(), storage);

    const kept = unsavedChanges('exam-1:S1', storage);
    expect(kept).toBeDefined();
    const before: SheetDoc = {
      ...empty(),
      counter: 4,
      answers: { q3: 6.02, q4: 'Entropy' },
      versions: { q3: 2, q4: 4 },
    };
    expect(applyChanges(before, kept!)).toEqual({
      id: 'exam-1:S1',
      counter: 5,
      answers: { q4: 'Entropy は ways' },
      flagged: ['q4'],
      versions: { q3: 5, q4: 5 },
    });
    // Another sheet sees nothing; forgetting or stashing nothing removes it.
    expect(unsavedChanges('exam-1:S2', storage)).toBeUndefined();
    forgetUnsaved('exam-1:S1', storage);
    expect(unsavedChanges('exam-1:S1', storage)).toBeUndefined();
    stashUnsaved('exam-1:S1', writer.unsaved(), storage);
    stashUnsaved('exam-1:S1', new Map(), storage);
    expect(storage.dump()).toEqual({});
  });

  it('ignores a damaged or unknown entry', () => {
    const storage = memoryStorage();
    for (const raw of ['{', '[]', '{"schemaVersion":2,"changes":[]}', '{"schemaVersion":1,"changes":[[1,{}]]}']) {
      storage.setItem('exam-hall.unsaved:exam-1:S1', raw);
      expect(unsavedChanges('exam-1:S1', storage), raw).toBeUndefined();
    }
  });
});
