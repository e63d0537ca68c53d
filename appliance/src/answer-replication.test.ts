import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../domain/clock.js';
import type { AnswerSheet } from '../../domain/answer-sheet.js';
import {
  ExamineeClient,
  openTestAppliance,
  removeDir,
  testExam,
  type TestAppliance,
} from '../../tests/support/appliance.js';

const MIN = 60_000;
const T0 = Date.parse('2026-06-01T08:00:00Z');

interface Loose {
  [key: string]: unknown;
}

const sheet = (studentId: string, counter: number, answers: AnswerSheet['answers'], flagged: string[] = []) => ({
  id: `exam-1:${studentId}`,
  counter,
  answers,
  flagged,
  _deleted: false,
});

async function push(client: ExamineeClient, app: TestAppliance['app'], body: unknown): Promise<Response> {
  return app.request('/api/exam/answers/push', {
    method: 'POST',
    headers: client.headers({ 'content-type': 'application/json' }),
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

describe('answer-sheet replication (the app’s RxDB push and pull handlers)', () => {
  let appliance: TestAppliance | undefined;
  afterEach(async () => {
    if (appliance) {
      await appliance.close();
      await removeDir(appliance.dataDir);
      appliance = undefined;
    }
  });

  async function started() {
    const clock = new FakeClock(T0);
    const start = T0 + 30 * MIN;
    appliance = await openTestAppliance(clock, { exam: testExam(start) });
    const { app } = appliance;
    const ada = new ExamineeClient(app, 'S1', 'AAAA1111BBBB');
    const alan = new ExamineeClient(app, 'S2', 'CCCC2222DDDD');
    for (const c of [ada, alan]) {
      expect((await c.signIn()).status).toBe(200);
      expect((await c.get('/api/exam/package')).status).toBe(200);
    }
    clock.set(start);
    for (const c of [ada, alan]) expect((await c.get('/api/exam/key')).status).toBe(200);
    return { app, clock, ada, alan, start };
  }

  it('stores a pushed sheet, answers conflicts with the stored sheet, and pulls it back', async () => {
    const { app, ada } = await started();

    // The device starts from an empty sheet (counter 0) that it never sends, but assumes stored.
    const first = await push(ada, app, {
      rows: [{ newDocumentState: sheet('S1', 1, { q1: 'a', q4: '' }, ['q2']), assumedMasterState: sheet('S1', 0, {}) }],
    });
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ conflicts: [] });

    // The stored sheet is canonical (the blank essay dropped) and progress reaches the monitor.
    const pulled = (await (await ada.get('/api/exam/answers/pull?counter=0')).json()) as Loose;
    expect(pulled).toEqual({
      documents: [
        {
          id: 'exam-1:S1',
          counter: 1,
          answers: { q1: 'a' },
          flagged: ['q2'],
          // A sheet without versions counts every question it names at its counter.
          versions: { q1: 1, q2: 1, q4: 1 },
          _deleted: false,
        },
      ],
      checkpoint: { counter: 1 },
    });
    expect(await (await ada.get('/api/exam/answers/pull?counter=1')).json()).toEqual({
      documents: [],
      checkpoint: { counter: 1 },
    });
    expect(appliance!.store.projection.examinee('exam-1', 'S1')?.draft).toMatchObject({ answered: 1, total: 5 });

    // A newer sheet replaces it; an older or equal one is a conflict and changes nothing.
    expect(
      await (
        await push(ada, app, {
          rows: [
            {
              newDocumentState: sheet('S1', 3, { q1: 'b', q3: 4.5 }),
              assumedMasterState: sheet('S1', 1, { q1: 'a' }, ['q2']),
            },
          ],
        })
      ).json(),
    ).toEqual({ conflicts: [] });
    const stale = await push(ada, app, { rows: [{ newDocumentState: sheet('S1', 2, { q1: 'a' }) }] });
    expect(stale.status).toBe(200);
    expect(await stale.json()).toEqual({
      conflicts: [
        {
          id: 'exam-1:S1',
          counter: 3,
          answers: { q1: 'b', q3: 4.5 },
          flagged: [],
          versions: { q1: 3, q2: 3, q3: 3, q4: 3 },
          _deleted: false,
        },
      ],
    });
    expect((await ada.get('/api/exam/answers/pull?counter=0').then((r) => r.json())) as Loose).toMatchObject({
      checkpoint: { counter: 3 },
    });
  });

  it('merges question by question: an older value of a question never overwrites a newer one', async () => {
    const { app, ada } = await started();
    const row = (
      counter: number,
      answers: AnswerSheet['answers'],
      versions: Record<string, number>,
      flagged: string[] = [],
    ) => ({
      rows: [{ newDocumentState: { ...sheet('S1', counter, answers, flagged), versions } }],
    });
    // Device A wrote q1 at 1 and the essay at 4.
    expect((await push(ada, app, row(4, { q1: 'a', q4: 'newest essay' }, { q1: 1, q4: 4 }))).status).toBe(200);
    // Another writer (a second device, another tab) with a higher counter but an older essay and a
    // newer q1: the essay stays, q1 changes, q3 arrives.
    expect(
      await (await push(ada, app, row(6, { q1: 'b', q3: 2, q4: 'older essay' }, { q1: 6, q3: 5, q4: 2 }))).json(),
    ).toEqual({ conflicts: [] });
    const pulled = (await (await ada.get('/api/exam/answers/pull?counter=0')).json()) as {
      documents: AnswerSheet[];
    };
    expect(pulled.documents[0]).toMatchObject({
      counter: 6,
      answers: { q1: 'b', q3: 2, q4: 'newest essay' },
      versions: { q1: 6, q3: 5, q4: 4 },
    });
    // A cleared answer is a change too: q3 cleared at 7 (absent with its version) stays cleared
    // against a later push that still carries the old q3 at version 5.
    expect((await push(ada, app, row(7, { q1: 'b', q4: 'newest essay' }, { q1: 6, q3: 7, q4: 4 }))).status).toBe(200);
    expect((await push(ada, app, row(8, { q1: 'b', q3: 2, q4: 'newest essay' }, { q1: 8, q3: 5, q4: 4 }))).status).toBe(
      200,
    );
    const after = (await (await ada.get('/api/exam/answers/pull?counter=0')).json()) as { documents: AnswerSheet[] };
    expect(after.documents[0]?.answers).toEqual({ q1: 'b', q4: 'newest essay' });
    // The flag goes with its question's version.
    expect(
      (await push(ada, app, row(9, { q1: 'b', q4: 'newest essay' }, { q1: 9, q4: 4, q2: 9 }, ['q2']))).status,
    ).toBe(200);
    expect((await push(ada, app, row(10, { q1: 'b', q4: 'newest essay' }, { q1: 10, q4: 4, q2: 3 }))).status).toBe(200);
    const flagged = (await (await ada.get('/api/exam/answers/pull?counter=0')).json()) as { documents: AnswerSheet[] };
    expect(flagged.documents[0]?.flagged).toEqual(['q2']);
  });

  it('refuses another examinee’s sheet, deletions, wrong shapes and answers that do not fit, changing nothing', async () => {
    const { app, ada, alan } = await started();
    expect((await push(alan, app, { rows: [{ newDocumentState: sheet('S2', 5, { q1: 'a' }) }] })).status).toBe(200);

    const cases: { body: unknown; status: number; code: string }[] = [
      // Ada pushes Alan's sheet (alone, and hidden behind her own in one batch).
      { body: { rows: [{ newDocumentState: sheet('S2', 9, { q1: 'b' }) }] }, status: 403, code: 'not-your-document' },
      {
        body: { rows: [{ newDocumentState: sheet('S1', 1, { q1: 'a' }) }, { newDocumentState: sheet('S2', 9, {}) }] },
        status: 403,
        code: 'not-your-document',
      },
      {
        body: { rows: [{ newDocumentState: { ...sheet('S1', 1, {}), id: 'exam-2:S1' } }] },
        status: 403,
        code: 'not-your-document',
      },
      {
        body: { rows: [{ newDocumentState: { ...sheet('S1', 1, {}), _deleted: true } }] },
        status: 400,
        code: 'validation-failed',
      },
      { body: { rows: [] }, status: 400, code: 'validation-failed' },
      {
        body: { rows: [{ newDocumentState: { ...sheet('S1', 1, {}), extra: 1 } }] },
        status: 400,
        code: 'validation-failed',
      },
      { body: { rows: [{ newDocumentState: sheet('S1', 0, {}) }] }, status: 400, code: 'validation-failed' },
      { body: '{"rows": [', status: 400, code: 'invalid-json' },
      // Versions: not numbers, above the counter, or of questions the exam does not have.
      {
        body: { rows: [{ newDocumentState: { ...sheet('S1', 2, {}), versions: { q1: 'x' } } }] },
        status: 400,
        code: 'validation-failed',
      },
      {
        body: { rows: [{ newDocumentState: { ...sheet('S1', 2, {}), versions: { q1: 3 } } }] },
        status: 400,
        code: 'validation-failed',
      },
      {
        body: { rows: [{ newDocumentState: { ...sheet('S1', 2, {}), versions: { q1: -1 } } }] },
        status: 400,
        code: 'validation-failed',
      },
      {
        body: { rows: [{ newDocumentState: { ...sheet('S1', 2, {}), versions: { ghost: 1 } } }] },
        status: 422,
        code: 'invalid-answer-file',
      },
      {
        body: { rows: [{ newDocumentState: sheet('S1', 1, { q1: 'zz' }) }] },
        status: 422,
        code: 'invalid-answer-file',
      },
      {
        body: { rows: [{ newDocumentState: sheet('S1', 1, { nope: 'a' }) }] },
        status: 422,
        code: 'invalid-answer-file',
      },
      {
        body: { rows: [{ newDocumentState: sheet('S1', 1, { q1: 'a' }, ['ghost']) }] },
        status: 422,
        code: 'invalid-answer-file',
      },
    ];
    for (const c of cases) {
      const res = await push(ada, app, c.body);
      expect({ status: res.status, code: ((await res.json()) as { error: { code: string } }).error.code }).toEqual({
        status: c.status,
        code: c.code,
      });
    }
    // Nothing of Ada's stored, Alan's untouched.
    expect(await (await ada.get('/api/exam/answers/pull?counter=0')).json()).toEqual({
      documents: [],
      checkpoint: { counter: 0 },
    });
    expect(await (await alan.get('/api/exam/answers/pull?counter=0')).json()).toMatchObject({
      documents: [{ id: 'exam-1:S2', counter: 5, answers: { q1: 'a' } }],
    });
    for (const q of ['-1', 'x', '1e3', '9999999999999999']) {
      expect((await ada.get(`/api/exam/answers/pull?counter=${q}`)).status).toBe(400);
    }
    // Without a session: 401.
    const anonymous = await app.request('/api/exam/answers/pull', { headers: { 'x-client-version': '0.1.0' } });
    expect(anonymous.status).toBe(401);
  });

  it('refuses pushes after the submission and after the time is over', async () => {
    const { app, clock, ada, alan, start } = await started();
    expect((await ada.submit(ada.answerFile({ q1: 'a' }))).status).toBe(201);
    const late = await push(ada, app, { rows: [{ newDocumentState: sheet('S1', 2, { q1: 'b' }) }] });
    expect(late.status).toBe(409);
    expect(await late.json()).toMatchObject({ error: { code: 'already-submitted' } });

    // Alan's time (90 min with his accommodation) and the grace are over, the upload window not yet.
    clock.set(start + 100 * MIN);
    const over = await push(alan, app, { rows: [{ newDocumentState: sheet('S2', 2, { q1: 'b' }) }] });
    expect(over.status).toBe(403);
    expect(await over.json()).toMatchObject({ error: { code: 'exam-time-over' } });
    // A day later his session itself has ended (an hour after the upload window).
    clock.set(start + 24 * 60 * MIN);
    const expired = await push(alan, app, { rows: [{ newDocumentState: sheet('S2', 3, { q1: 'b' }) }] });
    expect(expired.status).toBe(401);
    expect(await expired.json()).toMatchObject({ error: { code: 'session-expired' } });
  });
});
