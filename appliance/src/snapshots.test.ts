/**
 * Proctoring snapshots over app.request(): the device learns what to take from GET /api/exam,
 * sends small JPEGs while the examinee writes, says when it cannot; proctors see the count and the
 * problem on the row, view the pictures, change the type per examinee (chief) and the exam's type
 * and interval on Exam info, which shows what the snapshots cost in disk. Bad input gets a 4xx and
 * changes nothing.
 */
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../domain/clock.js';
import type { ExamInfo, ParticipantRow } from '../../domain/monitor.js';
import {
  addTestProctors,
  ExamineeClient,
  openTestAppliance,
  ProctorClient,
  removeDir,
  testExam,
  type TestAppliance,
} from '../../tests/support/appliance.js';

const MIN = 60_000;
const START = Date.parse('2026-06-01T09:00:00Z');
const EXAM = '/api/proctor/exams/exam-1';
const CONSENT = 'Your camera and screen are photographed every 30 seconds for this exam.';
let appliance: TestAppliance;
let clock: FakeClock;
let chief: ProctorClient;
let invi: ProctorClient;
let ada: ExamineeClient;
let alan: ExamineeClient;

/** A JPEG's first bytes (what the appliance checks), then a label. */
const jpeg = (label: string) => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from(label)]);
const sha256Of = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
function snapshot(who: ExamineeClient, source: string, body: Uint8Array, headers: Record<string, string> = {}) {
  return appliance.app.request(`/api/exam/snapshots?source=${source}`, {
    method: 'POST',
    headers: who.headers({ 'content-type': 'image/jpeg', 'x-content-sha256': sha256Of(body), ...headers }),
    body: new Uint8Array(body),
  });
}
const problem = (who: ExamineeClient, body: unknown) =>
  appliance.app.request('/api/exam/snapshots/problem', {
    method: 'POST',
    headers: who.headers({ 'content-type': 'application/json' }),
    body: JSON.stringify(body),
  });
const row = async (studentId: string) =>
  (await chief.json<{ row: ParticipantRow }>('GET', `${EXAM}/participants/${studentId}`)).row;
const codeOf = async (res: Response) => ((await res.json()) as { error?: { code: string } }).error?.code;

beforeEach(async () => {
  clock = new FakeClock(START - 20 * MIN);
  const exam = testExam(START, {
    settings: { proctoring: { type: 'camera-and-screen', intervalSeconds: 30, consentText: CONSENT } },
  });
  appliance = await openTestAppliance(clock, { exam });
  await addTestProctors(appliance);
  chief = new ProctorClient(appliance.app);
  invi = new ProctorClient(appliance.app);
  expect((await chief.login('chief', 'chief-password-1')).status).toBe(200);
  expect((await invi.login('invi', 'invi-password-1')).status).toBe(200);
  ada = new ExamineeClient(appliance.app, 'S1', 'AAAA1111BBBB');
  alan = new ExamineeClient(appliance.app, 'S2', 'CCCC2222DDDD');
  for (const c of [ada, alan]) {
    expect((await c.signIn()).status).toBe(200);
    expect((await c.get('/api/exam/package')).status).toBe(200);
  }
});
afterEach(async () => {
  await appliance.close();
  await removeDir(appliance.dataDir);
});

describe('proctoring snapshots', () => {
  it('are taken while the examinee writes, shown to proctors, and a refused camera is reported', async () => {
    const info = (await (await ada.get('/api/exam')).json()) as { proctoring: unknown };
    expect(info.proctoring).toEqual({
      type: 'camera-and-screen',
      sources: ['camera', 'screen'],
      intervalSeconds: 30,
      consentText: CONSENT,
      cameraRequired: false,
    });
    // Not before the exam started.
    expect(await codeOf(await snapshot(ada, 'camera', jpeg('early')))).toBe('not-started-by-examinee');

    clock.set(START + MIN);
    for (const c of [ada, alan]) expect((await c.get('/api/exam/key')).status).toBe(200);
    const first = jpeg('camera 1');
    const taken = await snapshot(ada, 'camera', first);
    expect(taken.status).toBe(201);
    expect(await taken.json()).toEqual({ sha256: sha256Of(first), size: first.byteLength });
    expect((await snapshot(ada, 'screen', jpeg('screen 1'))).status).toBe(201);
    expect(await row('S1')).toMatchObject({
      proctoringType: 'camera-and-screen',
      snapshots: 2,
      lastSnapshotAt: new Date(START + MIN).toISOString(),
      snapshotProblems: {},
    });

    // The proctor sees the picture; through another examinee's row it is not there.
    const image = await chief.request('GET', `${EXAM}/participants/S1/snapshots/${sha256Of(first)}`);
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/jpeg');
    expect(Buffer.from(await image.arrayBuffer()).equals(first)).toBe(true);
    expect((await invi.request('GET', `${EXAM}/participants/S2/snapshots/${sha256Of(first)}`)).status).toBe(404);
    expect((await invi.request('GET', `${EXAM}/participants/S1/snapshots/not-a-hash`)).status).toBe(404);

    // Alan's device cannot use the camera: reported once, on the row, until a camera snapshot arrives.
    expect((await problem(alan, { source: 'camera', problem: 'denied' })).status).toBe(200);
    expect((await problem(alan, { source: 'camera', problem: 'denied' })).status).toBe(200);
    await appliance.store.flushIndex();
    const refused = (await appliance.store.examEvents('exam-1')).filter((e) => e.kind === 'snapshot-refused');
    expect(refused.map((e) => [e.studentId, e.data])).toEqual([['S2', { source: 'camera', problem: 'denied' }]]);
    expect((await row('S2')).snapshotProblems).toEqual({ camera: 'denied' });
    expect((await snapshot(alan, 'camera', jpeg('alan allowed it after all'))).status).toBe(201);
    expect((await row('S2')).snapshotProblems).toEqual({});

    // After the submission: no more.
    const file = ada.answerFile({ q1: 'a' });
    expect((await ada.submit(file)).status).toBe(201);
    expect(await codeOf(await snapshot(ada, 'camera', jpeg('after')))).toBe('already-submitted');
  });

  it('refuses bad snapshots with a 4xx and keeps nothing of them', async () => {
    clock.set(START + MIN);
    expect((await ada.get('/api/exam/key')).status).toBe(200);
    const body = jpeg('x');
    const cases: [string, () => Response | Promise<Response>, number, string][] = [
      ['unknown source', () => snapshot(ada, 'video', body), 400, 'validation-failed'],
      ['no source', () => snapshot(ada, '', body), 400, 'validation-failed'],
      [
        'not a JPEG',
        () => snapshot(ada, 'camera', body, { 'content-type': 'image/png' }),
        415,
        'unsupported-media-type',
      ],
      ['no checksum', () => snapshot(ada, 'camera', body, { 'x-content-sha256': '' }), 400, 'validation-failed'],
      [
        'wrong checksum',
        () => snapshot(ada, 'camera', body, { 'x-content-sha256': 'b'.repeat(64) }),
        422,
        'checksum-mismatch',
      ],
      [
        'declared too large',
        () => snapshot(ada, 'camera', body, { 'content-length': String(600 * 1024) }),
        413,
        'payload-too-large',
      ],
      ['too large', () => snapshot(ada, 'camera', jpeg('x'.repeat(513 * 1024))), 413, 'payload-too-large'],
      [
        'not JPEG bytes',
        () => snapshot(ada, 'camera', Buffer.from('<svg onload=alert(1)>')),
        415,
        'unsupported-media-type',
      ],
      [
        'no session',
        () =>
          appliance.app.request('/api/exam/snapshots?source=camera', { method: 'POST', body: new Uint8Array(body) }),
        401,
        'unauthenticated',
      ],
      [
        'problem: unknown source',
        () => problem(ada, { source: 'microphone', problem: 'denied' }),
        400,
        'validation-failed',
      ],
      [
        'problem: unknown problem',
        () => problem(ada, { source: 'camera', problem: 'bored' }),
        400,
        'validation-failed',
      ],
      [
        'problem: extra field',
        () => problem(ada, { source: 'camera', problem: 'denied', at: 1 }),
        400,
        'validation-failed',
      ],
    ];
    for (const [what, request, status, code] of cases) {
      const res = await request();
      expect([what, res.status, await codeOf(res)]).toEqual([what, status, code]);
    }
    const r = await row('S1');
    expect([r.snapshots, r.snapshotProblems]).toEqual([0, {}]);

    // A flood: 30 a minute per source, then 429 until the minute has passed.
    for (let i = 0; i < 30; i++) expect((await snapshot(ada, 'screen', jpeg(`screen ${i}`))).status).toBe(201);
    expect(await codeOf(await snapshot(ada, 'screen', jpeg('one too many')))).toBe('too-many-events');
    expect((await snapshot(ada, 'camera', jpeg('camera still fine'))).status).toBe(201);
    clock.advance(61_000);
    expect((await snapshot(ada, 'screen', jpeg('a minute later'))).status).toBe(201);
    expect((await row('S1')).snapshots).toBe(32);
  });

  it('lets the chief change the type per examinee and the exam-wide type and interval; Exam info shows the disk it takes', async () => {
    clock.set(START + MIN);
    for (const c of [ada, alan]) expect((await c.get('/api/exam/key')).status).toBe(200);
    const personal = (who: ProctorClient, body: unknown) =>
      who.request('POST', `${EXAM}/participants/S1/proctoring`, body);
    expect(await codeOf(await personal(invi, { type: 'screen' }))).toBe('forbidden-role');
    expect(await codeOf(await personal(chief, { type: 'video' }))).toBe('validation-failed');
    expect(await codeOf(await personal(chief, {}))).toBe('validation-failed');
    expect((await row('S1')).proctoringType).toBe('camera-and-screen');
    expect((await personal(chief, { type: 'screen' })).status).toBe(200);
    expect((await row('S1')).proctoringType).toBe('screen');
    expect(await codeOf(await snapshot(ada, 'camera', jpeg('not asked for')))).toBe('snapshots-not-taken');
    expect(await codeOf(await problem(ada, { source: 'camera', problem: 'denied' }))).toBe('snapshots-not-taken');
    expect((await snapshot(ada, 'screen', jpeg('screen'))).status).toBe(201);

    const before = await chief.json<ExamInfo>('GET', EXAM);
    expect(before.editable).toMatchObject({ proctoringType: 'camera-and-screen', snapshotIntervalSeconds: 30 });
    expect(before.proctoring).toMatchObject({ consentText: CONSENT, cameraRequired: false, taken: 1 });
    for (const bad of [
      { snapshotIntervalSeconds: 4 },
      { snapshotIntervalSeconds: 3_601 },
      { snapshotIntervalSeconds: 12.5 },
      { snapshotIntervalSeconds: '60' },
      { proctoringType: 'video' },
      { proctoringType: null },
    ]) {
      const res = await chief.request('PATCH', `${EXAM}/settings`, bad);
      expect([bad, res.status, await codeOf(res)]).toEqual([bad, 400, 'validation-failed']);
    }
    expect((await invi.request('PATCH', `${EXAM}/settings`, { snapshotIntervalSeconds: 60 })).status).toBe(403);
    expect((await chief.json<ExamInfo>('GET', EXAM)).editable).toEqual(before.editable);

    const changed = await chief.json<ExamInfo>('PATCH', `${EXAM}/settings`, {
      proctoringType: 'camera',
      snapshotIntervalSeconds: 120,
    });
    expect(changed.editable).toMatchObject({ proctoringType: 'camera', snapshotIntervalSeconds: 120 });
    // The estimate per examinee at their own type and time, at 120 s: S1 screen only for 60 min
    // (30 × 120 kB), S2 camera for 90 min with a 50 % accommodation (45 × 25 kB), S3 camera for 60
    // min (30 × 25 kB).
    expect(changed.proctoring.estimateBytes).toBe(30 * 120_000 + 45 * 25_000 + 30 * 25_000);
    expect(changed.proctoring.takenBytes).toBe(jpeg('screen').byteLength);
    expect(changed.proctoring.diskFreeBytes === null || changed.proctoring.diskFreeBytes > 0).toBe(true);
    // The device hears of it at its next GET /api/exam (and on its live stream).
    const info = (await (await alan.get('/api/exam')).json()) as {
      proctoring: { type: string; intervalSeconds: number };
    };
    expect(info.proctoring).toMatchObject({ type: 'camera', intervalSeconds: 120 });
    expect(await codeOf(await snapshot(alan, 'screen', jpeg('no longer')))).toBe('snapshots-not-taken');

    // What the doctor reads: the disk the exams to come still need.
    const health = (await (await appliance.app.request('/api/health')).json()) as {
      snapshots: { stillNeededBytes: number };
    };
    expect(health.snapshots.stillNeededBytes).toBe(changed.proctoring.estimateBytes - changed.proctoring.takenBytes);
  });
});
