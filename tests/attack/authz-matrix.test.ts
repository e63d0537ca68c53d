/**
 * Authorisation matrix: every route of the app × (anonymous, examinee A, examinee B acting on A's
 * ids and objects, invigilator, chief proctor), each cell with the status it must get. The route
 * list comes from the app itself: a route without a row here fails the test, and so does a row
 * for a route that is gone.
 *
 * Each cell sends the request an honest caller of that route would send (valid body), so an
 * allowed cell shows the route working and a refused one shows the refusal is about who asks.
 * Examinee B's cells aim at A: A's student id in proctor routes, an answer file in A's name,
 * an answer naming A's uploaded file. Cells run in the order of the rows, column by column.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serialiseAnswerFile } from '../../domain/answers.js';
import { sha256HexOfText } from '../../domain/canonical.js';
import { FakeClock } from '../../domain/clock.js';
import {
  addTestProctors,
  CLIENT_VERSION,
  ExamineeClient,
  openTestAppliance,
  ORIGIN,
  ProctorClient,
  removeDir,
  testExam,
  type TestAppliance,
} from '../support/appliance.js';

const START = Date.parse('2026-06-01T09:00:00Z');
const WHO = ['anonymous', 'examinee A', 'examinee B', 'invigilator', 'chief'] as const;
type Who = (typeof WHO)[number];
/** Expected status per column, in the order of WHO. */
type Statuses = [number, number, number, number, number];

interface Row {
  /** The request body (JSON unless `raw`), given who sends it. */
  body?: (who: Who) => unknown;
  raw?: (who: Who) => { body: string | Uint8Array; headers: Record<string, string> };
  query?: string;
  /** The :sha256 of the path (64 a's unless told). */
  sha256?: string;
  expect: Statuses;
}

// Examinee routes: anonymous and proctors 401 (a proctor cookie is not an examinee session).
const EXAMINEE_ONLY = (a: number, b = a): Statuses => [401, a, b, 401, 401];
// Proctor routes: no session or an examinee's bearer token is 401.
const PROCTORS = (invi: number, chief = invi): Statuses => [401, 401, 401, invi, chief];
const PUBLIC = (s = 200): Statuses => [s, s, s, s, s];

const PDF = '%PDF-1.4 A’s lab report';
/** A proctoring snapshot (the exam takes camera snapshots): A's and B's cells send the same bytes. */
const SNAPSHOT = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0x4a, 0x46, 0x49, 0x46]);
const SNAPSHOT_SHA = createHash('sha256').update(SNAPSHOT).digest('hex');
const answerFileOf = (studentId: string, fileSha?: string) =>
  serialiseAnswerFile({
    format: 'answers/v1',
    examId: 'exam-1',
    studentId,
    answers: {
      q1: 'a',
      ...(fileSha ? { q5: [{ sha256: fileSha, name: 'report.pdf', size: Buffer.byteLength(PDF) }] } : {}),
    },
    flagged: [],
  });

/** The matrix. Keys: `METHOD template` exactly as the app lists its routes. */
const MATRIX: Record<string, Row> = {
  'GET /': { expect: PUBLIC() },
  'GET /api/health': { expect: PUBLIC() },
  'GET /api/time': { expect: PUBLIC() },
  'GET /api/receipt-key': { expect: PUBLIC() },
  // Sign-in needs the access code: the cell of each column signs A's device in again.
  'POST /api/session': {
    body: () => ({ studentId: 'S1', accessCode: 'AAAA1111BBBB', deviceId: 'device-S1-0123456789abcdef' }),
    expect: PUBLIC(),
  },
  'GET /api/session': { expect: EXAMINEE_ONLY(200) },
  'GET /api/exam': { expect: EXAMINEE_ONLY(200) },
  'GET /api/exam/package': { expect: EXAMINEE_ONLY(200) },
  'GET /api/exam/key': { expect: EXAMINEE_ONLY(200) },
  'PUT /api/exam/draft': { body: () => ({ counter: 5, answers: { q1: 'a' } }), expect: EXAMINEE_ONLY(200) },
  'GET /api/exam/draft': { expect: EXAMINEE_ONLY(200, 200) },
  'POST /api/exam/answers/push': {
    body: (who) => ({
      rows: [
        {
          newDocumentState: {
            id: `exam-1:${who === 'examinee B' ? 'S1' : 'S1'}`,
            counter: 9,
            answers: { q1: 'b' },
            flagged: [],
            _deleted: false,
          },
        },
      ],
    }),
    expect: EXAMINEE_ONLY(200, 403),
  },
  'GET /api/exam/answers/pull': { query: '?counter=0', expect: EXAMINEE_ONLY(200) },
  // A uploads a file; B's cell uploads the same bytes as B's own (allowed: B's own answer).
  'POST /api/exam/files': {
    raw: () => ({
      body: PDF,
      headers: {
        'content-type': 'application/pdf',
        'x-question-id': 'q5',
        'x-file-name': 'report.pdf',
        'x-content-sha256': sha256HexOfText(PDF),
      },
    }),
    expect: EXAMINEE_ONLY(201, 201),
  },
  // The exam takes camera snapshots: each examinee sends their own (screen ones are not asked for).
  'POST /api/exam/snapshots': {
    query: '?source=camera',
    raw: () => ({ body: SNAPSHOT, headers: { 'content-type': 'image/jpeg', 'x-content-sha256': SNAPSHOT_SHA } }),
    expect: EXAMINEE_ONLY(201),
  },
  'POST /api/exam/snapshots/problem': {
    body: () => ({ source: 'camera', problem: 'stopped' }),
    expect: EXAMINEE_ONLY(200),
  },
  // A submits A's answer file; B submits an answer file in A's name: refused.
  'POST /api/exam/submission': {
    raw: () => {
      const body = answerFileOf('S1', sha256HexOfText(PDF));
      return {
        body,
        headers: { 'content-type': 'application/json', 'x-content-sha256': sha256HexOfText(body) },
      };
    },
    expect: EXAMINEE_ONLY(201, 422),
  },
  'GET /api/exam/submission': { expect: EXAMINEE_ONLY(200, 404) },
  'GET /api/exam/events': { expect: EXAMINEE_ONLY(200) },
  'GET /api/exam/messages': { expect: EXAMINEE_ONLY(200) },
  'POST /api/exam/messages': { body: () => ({ text: 'May I have more paper?' }), expect: EXAMINEE_ONLY(201) },
  'POST /api/exam/integrity': { body: () => ({ type: 'visibility-hidden' }), expect: EXAMINEE_ONLY(201) },
  // A has submitted by now (409); B is still writing and may go.
  'POST /api/exam/lock': { body: () => ({ reason: 'reload' }), expect: EXAMINEE_ONLY(201) },
  'POST /api/exam/bathroom-break': { expect: EXAMINEE_ONLY(409, 200) },
  'POST /api/exam/bathroom-break/return': { expect: EXAMINEE_ONLY(409) },
  'POST /api/exam/verification/password': { body: () => ({ password: 'wrong-password' }), expect: EXAMINEE_ONLY(409) },
  'POST /api/exam/verification/photo': {
    query: '?kind=face',
    raw: () => {
      const body = '\xff\xd8 not really a jpeg';
      return { body, headers: { 'content-type': 'image/jpeg', 'x-content-sha256': sha256HexOfText(body) } };
    },
    expect: EXAMINEE_ONLY(409),
  },
  'GET /api/exam/resume-challenges': { expect: EXAMINEE_ONLY(200) },
  'POST /api/exam/resume': {
    body: () => ({ challenge: 'K7QH-3M9P', resumeCode: 'WRONG' }),
    expect: EXAMINEE_ONLY(422),
  },

  'POST /api/proctor/login': {
    body: (who) =>
      who === 'chief'
        ? { username: 'chief', password: 'chief-password-1' }
        : { username: 'invi', password: 'invi-password-1' },
    expect: PUBLIC(),
  },
  'GET /api/proctor/me': { expect: PROCTORS(200) },
  'POST /api/proctor/clock': { body: () => ({ action: 'confirm' }), expect: PROCTORS(403, 200) },
  'GET /api/proctor/preferences/columns': { expect: PROCTORS(200) },
  'PUT /api/proctor/preferences/columns': { body: () => ({ columns: ['name', 'status'] }), expect: PROCTORS(200) },
  'GET /api/proctor/exams': { expect: PROCTORS(200) },
  'GET /api/proctor/exams/:examId': { expect: PROCTORS(200) },
  'PATCH /api/proctor/exams/:examId/settings': { body: () => ({ lateLoginMinutes: 20 }), expect: PROCTORS(403, 200) },
  'POST /api/proctor/exams/:examId/verification-passwords': { body: () => ({ count: 2 }), expect: PROCTORS(403, 200) },
  // After the start (the matrix's clock): every proctor; before it, a chief only (monitor.test.ts).
  'GET /api/proctor/exams/:examId/preview': { expect: PROCTORS(200) },
  'GET /api/proctor/exams/:examId/exam-password': { expect: PROCTORS(403, 200) },
  'GET /api/proctor/exams/:examId/questions': { expect: PROCTORS(200) },
  'GET /api/proctor/exams/:examId/participants': { expect: PROCTORS(200) },
  'GET /api/proctor/exams/:examId/participants/:studentId': { expect: PROCTORS(200) },
  'GET /api/proctor/exams/:examId/participants/:studentId/events': { expect: PROCTORS(200) },
  'GET /api/proctor/exams/:examId/participants/:studentId/verification-photos/:sha256': { expect: PROCTORS(404) },
  'GET /api/proctor/exams/:examId/participants/:studentId/snapshots/:sha256': {
    sha256: SNAPSHOT_SHA,
    expect: PROCTORS(200),
  },
  'POST /api/proctor/exams/:examId/participants/:studentId/proctoring': {
    body: () => ({ type: 'camera-and-screen' }),
    expect: PROCTORS(403, 200),
  },
  'POST /api/proctor/exams/:examId/participants/:studentId/max-downloads': {
    body: () => ({ set: 3 }),
    expect: PROCTORS(200),
  },
  'POST /api/proctor/exams/:examId/participants/:studentId/reveal-contact': { body: () => ({}), expect: PROCTORS(200) },
  'POST /api/proctor/exams/:examId/participants/:studentId/late-login': {
    body: () => ({ minutes: 10 }),
    expect: PROCTORS(200),
  },
  'POST /api/proctor/exams/:examId/participants/:studentId/time-extension': {
    body: () => ({ minutes: 5 }),
    expect: PROCTORS(200),
  },
  'POST /api/proctor/exams/:examId/participants/:studentId/accommodation': {
    body: () => ({ percent: 25 }),
    expect: PROCTORS(403, 200),
  },
  'POST /api/proctor/exams/:examId/participants/:studentId/verification-mode': {
    body: () => ({ mode: 'manual' }),
    expect: PROCTORS(403, 200),
  },
  'POST /api/proctor/exams/:examId/participants/:studentId/verification': {
    body: () => ({ decision: 'verified' }),
    expect: PROCTORS(200),
  },
  'POST /api/proctor/exams/:examId/participants/:studentId/bathroom-break': {
    // A asked for no break (A had submitted): nothing to decide, for either role.
    body: () => ({ decision: 'approved' }),
    expect: PROCTORS(409),
  },
  'POST /api/proctor/exams/:examId/participants/:studentId/hardware-checks': {
    body: () => ({ disabled: ['camera'] }),
    expect: PROCTORS(200),
  },
  'POST /api/proctor/exams/:examId/participants/:studentId/relogin': {
    body: () => ({ decision: 'approve' }),
    expect: PROCTORS(409),
  },
  'POST /api/proctor/exams/:examId/participants/:studentId/integrity-review': {
    body: () => ({ status: 'cleared' }),
    expect: PROCTORS(200),
  },
  'GET /api/proctor/exams/:examId/participants/:studentId/time-up': { expect: PROCTORS(200) },
  'POST /api/proctor/exams/:examId/participants/:studentId/time-up-decision': {
    // A submitted in time: nothing was compared, so there is nothing for the chief to decide.
    body: () => ({ submissionId: `submission:exam-1:S1:${boxId}:1`, choice: 'submitted-file' }),
    expect: PROCTORS(403, 409),
  },
  'POST /api/proctor/exams/:examId/participants/:studentId/resume-code': {
    body: (who) => ({ challenge: who === 'chief' ? 'CHAL-CHIEF' : 'CHAL-INVI' }),
    expect: PROCTORS(422),
  },
  'GET /api/proctor/exams/:examId/messages': { expect: PROCTORS(200) },
  'POST /api/proctor/exams/:examId/messages': {
    body: () => ({ text: 'Ten minutes left', studentId: 'S1' }),
    expect: PROCTORS(201),
  },
  'GET /api/proctor/exams/:examId/monitor': { expect: PROCTORS(200) },
  'GET /api/proctor/exams/:examId/seb-config': { expect: PROCTORS(200) },
  'GET /api/proctor/exams/:examId/seb': { expect: PROCTORS(200) },
  'GET /api/proctor/exams/:examId/report.csv': { expect: PROCTORS(200) },
  'GET /api/proctor/exams/:examId/events.jsonl': { expect: PROCTORS(200) },
  'GET /api/sync/status': { expect: PROCTORS(200) },
  // The matrix's appliance has no central server: a proctor gets 409 sync-not-configured.
  'POST /api/sync/now': { expect: PROCTORS(409) },
  // Chief only, after everything that reads A's submission.
  'POST /api/proctor/exams/:examId/participants/:studentId/remove-submission': {
    body: () => ({ reason: 'submitted the wrong file' }),
    expect: PROCTORS(403, 200),
  },
  // Last: it ends the session the cells above used.
  'POST /api/proctor/logout': { body: () => ({}), expect: PROCTORS(200) },
};

/** The test appliance's id (submission ids name the box that accepted them). */
let boxId = '';

describe('authorisation matrix: every route × every kind of caller', () => {
  let appliance: TestAppliance;
  const clock = new FakeClock(START - 20 * 60_000);
  const tokens: Partial<Record<Who, string>> = {};
  const cookies: Partial<Record<Who, string>> = {};

  beforeAll(async () => {
    appliance = await openTestAppliance(clock, {
      exam: testExam(START, { settings: { proctoring: { type: 'camera', intervalSeconds: 30 } } }),
    });
    boxId = appliance.store.applianceId;
    await addTestProctors(appliance);
    const a = new ExamineeClient(appliance.app, 'S1', 'AAAA1111BBBB');
    const b = new ExamineeClient(appliance.app, 'S2', 'CCCC2222DDDD');
    for (const e of [a, b]) {
      expect((await e.signIn()).status).toBe(200);
      expect((await e.get('/api/exam/package')).status).toBe(200);
    }
    clock.set(START + 5 * 60_000);
    for (const e of [a, b]) expect((await e.get('/api/exam/key')).status).toBe(200);
    tokens['examinee A'] = a.token;
    tokens['examinee B'] = b.token;
    for (const [who, user, password] of [
      ['invigilator', 'invi', 'invi-password-1'],
      ['chief', 'chief', 'chief-password-1'],
    ] as const) {
      const p = new ProctorClient(appliance.app);
      expect((await p.login(user, password)).status).toBe(200);
      cookies[who] = p.cookie;
    }
  });
  afterAll(async () => {
    await appliance?.close();
    if (appliance) await removeDir(appliance.dataDir);
  });

  it('has a row for every route of the app and no row for a route that is gone', () => {
    const seen = new Set<string>();
    for (const r of appliance.app.routes) {
      if (r.method === 'ALL' || r.path.endsWith('*')) continue;
      seen.add(`${r.method} ${r.path}`);
    }
    expect(
      [...seen].filter((k) => !(k in MATRIX)),
      'routes without a matrix row',
    ).toEqual([]);
    expect(
      Object.keys(MATRIX).filter((k) => !seen.has(k)),
      'matrix rows without a route',
    ).toEqual([]);
    expect(seen.size).toBeGreaterThan(60);
  });

  it('answers every cell with the expected status', async () => {
    const got: string[] = [];
    const want: string[] = [];
    const table: string[] = [];
    for (const [key, row] of Object.entries(MATRIX)) {
      const [method, template] = key.split(' ') as [string, string];
      const statuses: number[] = [];
      for (const who of WHO) {
        // B's cells aim at A's ids; everyone else's at A's too (A is the examinee at hand).
        const path =
          template
            .replace(':examId', 'exam-1')
            .replace(':studentId', 'S1')
            .replace(':sha256', row.sha256 ?? 'a'.repeat(64)) + (row.query ?? '');
        const headers: Record<string, string> = { 'x-client-version': CLIENT_VERSION, origin: ORIGIN };
        const token = tokens[who];
        if (token) headers.authorization = `Bearer ${token}`;
        const cookie = cookies[who];
        if (cookie) headers.cookie = cookie;
        let body: string | Uint8Array | undefined;
        if (row.raw) {
          const r = row.raw(who);
          body = r.body;
          Object.assign(headers, r.headers);
        } else if (row.body) {
          body = JSON.stringify(row.body(who));
          headers['content-type'] = 'application/json';
        } else if (method !== 'GET') {
          headers['content-type'] = 'application/json';
        }
        const res = await appliance.app.request(path, {
          method,
          headers,
          ...(body === undefined ? {} : { body }),
        });
        statuses.push(res.status);
        if (res.headers.get('content-type')?.startsWith('text/event-stream')) await res.body?.cancel();
        else await res.arrayBuffer();
        // A proctor login cell hands out a new session: keep using the one we have.
      }
      got.push(`${key} → ${statuses.join(' ')}`);
      want.push(`${key} → ${row.expect.join(' ')}`);
      table.push(`| ${key} | ${statuses.join(' | ')} |`);
    }
    console.log(`| route | ${WHO.join(' | ')} |\n|---|---|---|---|---|---|\n${table.join('\n')}`);
    expect(got).toEqual(want);
  });

  it('refuses an answer file of B that names a file only A uploaded', async () => {
    const onlyA = '%PDF-1.4 only A has this';
    const a = appliance.app;
    const aHeaders = { 'x-client-version': CLIENT_VERSION, authorization: `Bearer ${tokens['examinee A'] ?? ''}` };
    const up = await a.request('/api/exam/files', {
      method: 'POST',
      headers: {
        ...aHeaders,
        'content-type': 'application/pdf',
        'x-question-id': 'q5',
        'x-file-name': 'mine.pdf',
        'x-content-sha256': sha256HexOfText(onlyA),
      },
      body: onlyA,
    });
    // A has submitted (and a chief removed it), so A's answers may be closed: the file may or may not be taken.
    expect(up.status).toBeLessThan(500);
    const body = serialiseAnswerFile({
      format: 'answers/v1',
      examId: 'exam-1',
      studentId: 'S2',
      answers: { q5: [{ sha256: sha256HexOfText(onlyA), name: 'mine.pdf', size: Buffer.byteLength(onlyA) }] },
      flagged: [],
    });
    const res = await a.request('/api/exam/submission', {
      method: 'POST',
      headers: {
        'x-client-version': CLIENT_VERSION,
        authorization: `Bearer ${tokens['examinee B'] ?? ''}`,
        'content-type': 'application/json',
        'x-content-sha256': sha256HexOfText(body),
      },
      body,
    });
    // Per-object: B cannot claim A's upload (as if it did not exist for B).
    expect({ status: res.status, code: ((await res.json()) as { error: { code: string } }).error.code }).toEqual({
      status: 404,
      code: 'file-not-found',
    });
  });
});
