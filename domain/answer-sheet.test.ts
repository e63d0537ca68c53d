import { describe, expect, it } from 'vitest';
import { mergeAnswerSheets, questionVersion, type SheetState } from './answer-sheet.js';
import { seededChoices } from './seeded-random.js';

const QUESTIONS = ['q1', 'q2', 'q3', 'q4'];

describe('mergeAnswerSheets', () => {
  it('takes each question from the state that changed it last, the flag with its answer', () => {
    const stored: SheetState = {
      counter: 5,
      answers: { q1: 'old', q2: 'kept' },
      flagged: ['q2'],
      versions: { q1: 1, q2: 5 },
    };
    const incoming: SheetState = {
      counter: 6,
      answers: { q1: 'new', q2: 'stale' },
      flagged: [],
      versions: { q1: 6, q2: 2 },
    };
    expect(mergeAnswerSheets(incoming, stored)).toEqual({
      counter: 6,
      answers: { q1: 'new', q2: 'kept' },
      flagged: ['q2'],
      versions: { q1: 6, q2: 5 },
    });
  });

  it('keeps a cleared answer cleared against an older value, and counts a sheet without versions at its counter', () => {
    const cleared: SheetState = { counter: 9, answers: {}, flagged: [], versions: { q1: 9 } };
    const older: SheetState = { counter: 4, answers: { q1: 'typed' }, flagged: [] };
    expect(questionVersion(older, 'q1')).toBe(4);
    expect(questionVersion(cleared, 'q2')).toBe(0);
    expect(mergeAnswerSheets(older, cleared).answers).toEqual({});
    expect(mergeAnswerSheets(cleared, older).answers).toEqual({});
  });

  it('ends with the last write of every question whatever order the states arrive in (seeded)', () => {
    const seed = 20261202;
    const random = seededChoices(seed);
    for (let round = 0; round < 200; round++) {
      // Two writers share one counter sequence (the sheet's), each writing some questions.
      const writers: SheetState[] = [
        { counter: 0, answers: {}, flagged: [], versions: {} },
        { counter: 0, answers: {}, flagged: [], versions: {} },
      ];
      const last: Record<string, { value: string | undefined; flagged: boolean }> = {};
      const states: SheetState[] = [];
      for (let counter = 1; counter <= 12; counter++) {
        const w = writers[random.int(2)]!;
        const q = random.pick(QUESTIONS);
        const value = random.int(4) === 0 ? undefined : `v${counter}`;
        const flag = random.int(3) === 0;
        const answers = { ...w.answers };
        if (value === undefined) delete answers[q];
        else answers[q] = value;
        const flagged = flag ? [...new Set([...w.flagged, q])] : w.flagged.filter((f) => f !== q);
        Object.assign(w, { counter, answers, flagged, versions: { ...w.versions, [q]: counter } });
        last[q] = { value, flagged: flag };
        states.push(structuredClone(w));
      }
      // Deliver every state, shuffled and some twice, merging into what is held.
      const deliveries = [...states, ...states.filter(() => random.int(3) === 0)];
      for (let i = deliveries.length - 1; i > 0; i--) {
        const j = random.int(i + 1);
        [deliveries[i], deliveries[j]] = [deliveries[j]!, deliveries[i]!];
      }
      let held: SheetState = { counter: 0, answers: {}, flagged: [], versions: {} };
      for (const d of deliveries) held = mergeAnswerSheets(d, held);
      for (const q of QUESTIONS) {
        const want = last[q];
        expect(held.answers[q], `seed ${seed} round ${round} ${q}`).toBe(want?.value);
        expect(held.flagged.includes(q), `seed ${seed} round ${round} ${q} flag`).toBe(want?.flagged ?? false);
      }
    }
  });
});
