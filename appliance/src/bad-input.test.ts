/**
 * Bad input of every kind gets a 4xx with an error code and changes nothing: malformed,
 * oversize, out-of-window, wrong-owner and replayed requests, each checked against a snapshot
 * of everything the appliance keeps (events, journal bytes, projection, drafts, files).
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256HexOfText } from '../../domain/canonical.js';
import { FakeClock } from '../../domain/clock.js';
import { ERRORS, type ErrorCode } from '../../domain/errors.js';
import { rosterEntrySchema } from '../../domain/exam-format.js';
import {
  addTestProctors,
  CLIENT_VERSION,
  ExamineeClient,
  openTestAppliance,
  ORIGIN,
  ProctorClient,
  removeDir,
  testExam,
  TEST_ROSTER,
  type TestAppliance,
} from '../../tests/support/appliance.js';

const MIN = 60_000;
const START = Date.parse('2026-06-01T09:00:00Z');
const NOW = START + 10 * MIN;

let appliance: TestAppliance;
const clock = new FakeClock(NOW);
let ada: ExamineeClient; // S1: active, 1 download of 2, draft counter 3
let alan: ExamineeClient; // S2: active, 2 downloads of 2
let grace: ExamineeClient; // S3: submitted
let chief: ProctorClient;
const ALANS_PDF = '%PDF-1.7 Alan';
let alansFile = { sha256: '', size: 0, name: '' };
const ROSTER = [
  ...TEST_ROSTER,
  rosterEntrySchema.parse({ studentId: 'S4', name: 'Katherine Johnson', accessCode: 'GGGG4444HHHH' }),
];

interface Case {
  name: string;
  /** Minutes from the official start at which the request is sent (default +10). */
  at?: number;
  request: () => Promise<Response>;
  status: number;
  code: ErrorCode;
  /** What the refusal's detail says, where it matters which rule was broken. */
  detail?: RegExp;
}

const json = (body: unknown) => JSON.stringify(body);
const tokenOf = (c: ExamineeClient) => c.token ?? '';

function raw(
  p: string,
  init: { method?: string; headers?: Record<string, string>; body?: RequestInit['body'] },
): Promise<Response> {
  const stream = init.body instanceof ReadableStream;
  // A streamed body needs duplex: 'half' (fetch's rule for request streams).
  const request = {
    method: init.method ?? 'GET',
    headers: init.headers ?? {},
    body: init.body ?? null,
    ...(stream ? { duplex: 'half' } : {}),
  };
  return Promise.resolve(appliance.app.request(p, request as RequestInit));
}
const signIn = (body: string, headers: Record<string, string> = {}) =>
  raw('/api/session', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-client-version': CLIENT_VERSION, ...headers },
    body,
  });
const asAda = (p: string, method = 'GET', extra: Record<string, string> = {}, body?: RequestInit['body']) =>
  raw(p, { method, headers: ada.headers(extra), ...(body === undefined ? {} : { body }) });
const submitAs = (c: ExamineeClient, body: NonNullable<RequestInit['body']>, extra: Record<string, string> = {}) =>
  raw('/api/exam/submission', {
    method: 'POST',
    headers: c.headers({ 'content-type': 'application/json', 'x-submission-type': 'manual', ...extra }),
    body,
  });

/** A body stream that never says its length and goes on past any limit. */
function endlessBody(chunk = 64 * 1024, chunks = 200): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent++ >= chunks) controller.close();
      else controller.enqueue(new Uint8Array(chunk).fill(0x20));
    },
  });
}

function tamperedToken(): string {
  const [payload, mac] = tokenOf(ada).split('.');
  const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  return `${Buffer.from(JSON.stringify({ ...claims, s: 'S2' })).toString('base64url')}.${mac ?? ''}`;
}

const CASES: Case[] = [
  // Sign-in: malformed, oversize, wrong credentials, versions, windows.
  {
    name: 'sign-in with malformed JSON',
    request: () => signIn('{"studentId": "S4",'),
    status: 400,
    code: 'invalid-json',
  },
  {
    name: 'sign-in as text/plain',
    request: () => signIn(json({ studentId: 'S4' }), { 'content-type': 'text/plain' }),
    status: 415,
    code: 'unsupported-media-type',
  },
  {
    name: 'sign-in missing the access code',
    request: () => signIn(json({ studentId: 'S4', deviceId: 'd'.repeat(20) })),
    status: 400,
    code: 'validation-failed',
  },
  {
    name: 'sign-in with a number as student id',
    request: () => signIn(json({ studentId: 4, accessCode: 'GGGG4444HHHH', deviceId: 'd'.repeat(20) })),
    status: 400,
    code: 'validation-failed',
  },
  {
    name: 'sign-in with an unknown field',
    request: () => signIn(json({ studentId: 'S4', accessCode: 'GGGG4444HHHH', deviceId: 'd'.repeat(20), admin: true })),
    status: 400,
    code: 'validation-failed',
  },
  { name: 'sign-in with a JSON array body', request: () => signIn('[1,2,3]'), status: 400, code: 'validation-failed' },
  {
    name: 'sign-in body over 4 KiB',
    request: () => signIn(json({ studentId: 'S4', accessCode: 'x'.repeat(10_000), deviceId: 'd'.repeat(20) })),
    status: 413,
    code: 'payload-too-large',
  },
  {
    name: 'sign-in with a too-short device id',
    request: () => signIn(json({ studentId: 'S4', accessCode: 'GGGG4444HHHH', deviceId: 'abc' })),
    status: 400,
    code: 'validation-failed',
  },
  {
    name: 'sign-in with a wrong access code',
    request: () => signIn(json({ studentId: 'S4', accessCode: 'GGGG4444HHHX', deviceId: 'd'.repeat(20) })),
    status: 401,
    code: 'invalid-credentials',
  },
  {
    name: 'sign-in with another examinee’s code',
    request: () => signIn(json({ studentId: 'S4', accessCode: 'AAAA1111BBBB', deviceId: 'd'.repeat(20) })),
    status: 401,
    code: 'invalid-credentials',
  },
  {
    name: 'sign-in with an unknown student id',
    request: () => signIn(json({ studentId: 'S999', accessCode: 'GGGG4444HHHH', deviceId: 'd'.repeat(20) })),
    status: 401,
    code: 'invalid-credentials',
  },
  {
    name: 'sign-in naming an unknown exam',
    request: () =>
      signIn(json({ studentId: 'S4', accessCode: 'GGGG4444HHHH', deviceId: 'd'.repeat(20), examId: 'exam-x' })),
    status: 401,
    code: 'invalid-credentials',
  },
  {
    name: 'sign-in without a client version',
    request: () =>
      signIn(json({ studentId: 'S4', accessCode: 'GGGG4444HHHH', deviceId: 'd'.repeat(20) }), {
        'x-client-version': '',
      }),
    status: 400,
    code: 'validation-failed',
  },
  {
    name: 'sign-in from a too-old client',
    request: () =>
      signIn(json({ studentId: 'S4', accessCode: 'GGGG4444HHHH', deviceId: 'd'.repeat(20) }), {
        'x-client-version': '0.0.9',
      }),
    status: 426,
    code: 'client-too-old',
  },
  {
    name: 'sign-in before sign-in opens',
    at: -61,
    request: () => signIn(json({ studentId: 'S4', accessCode: 'GGGG4444HHHH', deviceId: 'd'.repeat(20) })),
    status: 403,
    code: 'login-not-open-yet',
  },
  {
    name: 'first sign-in after the late-login limit',
    at: 16,
    request: () => signIn(json({ studentId: 'S4', accessCode: 'GGGG4444HHHH', deviceId: 'd'.repeat(20) })),
    status: 403,
    code: 'late-login-closed',
  },
  // Sessions: none, forged, tampered.
  {
    name: 'exam info without a token',
    request: () => raw('/api/exam', { headers: { 'x-client-version': CLIENT_VERSION } }),
    status: 401,
    code: 'unauthenticated',
  },
  {
    name: 'exam info with a Basic authorization',
    request: () => raw('/api/exam', { headers: { 'x-client-version': CLIENT_VERSION, authorization: 'Basic YTpi' } }),
    status: 401,
    code: 'unauthenticated',
  },
  {
    name: 'exam info with a garbage token',
    request: () =>
      raw('/api/exam', { headers: { 'x-client-version': CLIENT_VERSION, authorization: 'Bearer abc.def' } }),
    status: 401,
    code: 'session-invalid',
  },
  {
    name: 'a token edited to another examinee',
    request: () =>
      raw('/api/exam', { headers: { 'x-client-version': CLIENT_VERSION, authorization: `Bearer ${tamperedToken()}` } }),
    status: 401,
    code: 'session-invalid',
  },
  {
    name: 'session status with a garbage token',
    request: () => raw('/api/session', { headers: { authorization: 'Bearer x.y' } }),
    status: 401,
    code: 'session-invalid',
  },
  {
    name: 'exam info with a malformed client version',
    request: () => asAda('/api/exam', 'GET', { 'x-client-version': 'latest' }),
    status: 400,
    code: 'validation-failed',
  },
  {
    name: 'download from a too-old client',
    request: () => asAda('/api/exam/package', 'GET', { 'x-client-version': '0.0.1' }),
    status: 426,
    code: 'client-too-old',
  },
  // Downloads and the key: window, limit, time.
  {
    name: 'download past the download limit',
    request: () => raw('/api/exam/package', { headers: alan.headers() }),
    status: 403,
    code: 'download-limit-reached',
  },
  {
    name: 'download after the window closed',
    at: 31,
    request: () => asAda('/api/exam/package'),
    status: 403,
    code: 'download-window-closed',
  },
  {
    name: 'download after submitting',
    request: () => raw('/api/exam/package', { headers: grace.headers() }),
    status: 409,
    code: 'already-submitted',
  },
  {
    name: 'key before the official start',
    at: -1,
    request: () => asAda('/api/exam/key'),
    status: 403,
    code: 'exam-not-started',
  },
  {
    name: 'key after the examinee’s deadline',
    at: 61,
    request: () => asAda('/api/exam/key'),
    status: 403,
    code: 'exam-time-over',
  },
  // Drafts: replays, shapes, owners, sizes.
  {
    name: 'a replayed autosave (same counter)',
    request: () => ada.putDraft(3, { q1: 'b' }),
    status: 409,
    code: 'stale-draft',
  },
  { name: 'an older autosave', request: () => ada.putDraft(2, { q1: 'b' }), status: 409, code: 'stale-draft' },
  {
    name: 'autosave with counter 0',
    request: () => ada.putDraft(0, { q1: 'b' }),
    status: 400,
    code: 'validation-failed',
  },
  {
    name: 'autosave answering an unknown question',
    request: () => ada.putDraft(10, { q99: 'a' }),
    status: 422,
    code: 'invalid-answer-file',
  },
  {
    name: 'autosave with a __proto__ answer',
    request: () =>
      asAda(
        '/api/exam/draft',
        'PUT',
        { 'content-type': 'application/json' },
        '{"counter":10,"answers":{"__proto__":"a"}}',
      ),
    status: 400,
    code: 'validation-failed',
  },
  {
    name: 'autosave with a boolean for a choice',
    request: () => ada.putDraft(10, { q1: true }),
    status: 422,
    code: 'invalid-answer-file',
  },
  {
    name: 'autosave choosing an option that does not exist',
    request: () => ada.putDraft(10, { q1: 'z' }),
    status: 422,
    code: 'invalid-answer-file',
  },
  {
    name: 'autosave with NaN-like number text',
    request: () =>
      asAda('/api/exam/draft', 'PUT', { 'content-type': 'application/json' }, '{"counter":10,"answers":{"q3":1e999}}'),
    status: 400,
    code: 'validation-failed',
  },
  {
    name: 'autosave over 2 MiB',
    request: () => ada.putDraft(10, { q4: 'x'.repeat(2 * 1024 * 1024) }),
    status: 413,
    code: 'payload-too-large',
  },
  {
    name: 'autosave streamed past the limit without a length',
    request: () => asAda('/api/exam/draft', 'PUT', { 'content-type': 'application/json' }, endlessBody()),
    status: 413,
    code: 'payload-too-large',
  },
  {
    name: 'autosave after submitting',
    request: () => grace.putDraft(10, { q1: 'a' }),
    status: 409,
    code: 'already-submitted',
  },
  // Submissions: checksums, shapes, owners, sizes, replays, deadlines.
  {
    name: 'submission whose checksum does not match',
    request: () => ada.submit(ada.answerFile({ q1: 'a' }), { sha256: 'a'.repeat(64) }),
    status: 422,
    code: 'checksum-mismatch',
  },
  {
    name: 'submission with a malformed checksum header',
    request: () => ada.submit(ada.answerFile({ q1: 'a' }), { sha256: 'not-a-hash' }),
    status: 400,
    code: 'validation-failed',
  },
  {
    name: 'submission without a checksum header',
    request: () => submitAs(ada, ada.answerFile({ q1: 'a' })),
    status: 400,
    code: 'validation-failed',
  },
  {
    name: 'submission as text/plain',
    request: () => submitAs(ada, 'x', { 'content-type': 'text/plain', 'x-content-sha256': sha256HexOfText('x') }),
    status: 415,
    code: 'unsupported-media-type',
  },
  {
    name: 'submission with an unknown submission type',
    request: () =>
      submitAs(ada, ada.answerFile({}), {
        'x-content-sha256': sha256HexOfText(ada.answerFile({})),
        'x-submission-type': 'forced',
      }),
    status: 400,
    code: 'validation-failed',
  },
  {
    name: 'submission that is not JSON',
    request: () => submitAs(ada, 'hello', { 'x-content-sha256': sha256HexOfText('hello') }),
    status: 422,
    code: 'invalid-answer-file',
  },
  {
    name: 'submission of an empty body',
    request: () => submitAs(ada, '', { 'x-content-sha256': sha256HexOfText('') }),
    status: 422,
    code: 'invalid-answer-file',
  },
  {
    name: 'submission of another examinee’s answer file',
    request: () => ada.submit(alan.answerFile({ q1: 'a' })),
    status: 422,
    code: 'invalid-answer-file',
  },
  {
    name: 'submission for another exam',
    request: () => ada.submit(ada.answerFile({ q1: 'a' }, 'exam-2')),
    status: 422,
    code: 'invalid-answer-file',
  },
  {
    name: 'submission not in canonical form',
    request: () => {
      const pretty = JSON.stringify(JSON.parse(ada.answerFile({ q1: 'a' })), null, 2);
      return ada.submit(pretty);
    },
    status: 422,
    code: 'invalid-answer-file',
  },
  {
    name: 'submission declaring more than the size limit',
    request: () =>
      submitAs(ada, 'x', { 'x-content-sha256': 'a'.repeat(64), 'content-length': String(6 * 1024 * 1024) }),
    status: 413,
    code: 'payload-too-large',
  },
  {
    name: 'submission streamed past the size limit',
    request: () => submitAs(ada, endlessBody(64 * 1024, 100), { 'x-content-sha256': 'a'.repeat(64) }),
    status: 413,
    code: 'payload-too-large',
  },
  {
    name: 'a second, different submission (replay with new content)',
    request: () => grace.submit(grace.answerFile({ q1: 'b' })),
    status: 409,
    code: 'already-submitted',
  },
  {
    name: 'submission after the upload deadline',
    at: 121,
    request: () => ada.submit(ada.answerFile({ q1: 'a' })),
    status: 403,
    code: 'upload-deadline-passed',
  },
  {
    name: 'submission with an empty bearer token',
    request: () =>
      raw('/api/exam/submission', {
        method: 'POST',
        headers: { 'x-client-version': CLIENT_VERSION, authorization: 'Bearer ' },
      }),
    status: 401,
    code: 'unauthenticated',
  },
  // Files for file questions.
  {
    name: 'a draft naming another examinee’s file',
    request: () => ada.putDraft(10, { q5: [alansFile] }),
    status: 404,
    code: 'file-not-found',
  },
  {
    name: 'a submission naming another examinee’s file',
    request: () => ada.submit(ada.answerFile({ q5: [alansFile] })),
    status: 404,
    code: 'file-not-found',
  },
  {
    name: 'a file for a question that is not a file question',
    request: () => ada.uploadFile('x', 'a.pdf', 'q1'),
    status: 400,
    code: 'validation-failed',
  },
  {
    name: 'a file for an unknown question',
    request: () => ada.uploadFile('x', 'a.pdf', 'q99'),
    status: 400,
    code: 'validation-failed',
  },
  {
    name: 'a file with a refused extension',
    request: () => ada.uploadFile('x', 'a.exe'),
    status: 400,
    code: 'validation-failed',
  },
  {
    name: 'a file whose checksum does not match',
    request: () => ada.uploadFile('x', 'a.pdf', 'q5', 'b'.repeat(64)),
    status: 422,
    code: 'checksum-mismatch',
  },
  {
    name: 'a file name with a path',
    request: () => ada.uploadFile('x', '../../etc/passwd.pdf'),
    status: 400,
    code: 'validation-failed',
  },
  {
    name: 'a file name with a Windows path',
    request: () => ada.uploadFile('x', '..\\..\\boot.pdf'),
    status: 400,
    code: 'validation-failed',
  },
  {
    name: 'a file name that is not URI-encoded',
    request: () =>
      raw('/api/exam/files', {
        method: 'POST',
        headers: ada.headers({
          'x-question-id': 'q5',
          'x-file-name': '%E0%A4%A',
          'x-content-sha256': sha256HexOfText('x'),
        }),
        body: 'x',
      }),
    status: 400,
    code: 'validation-failed',
  },
  {
    name: 'a file over the question’s size limit',
    request: () => ada.uploadFile('x'.repeat(1024 * 1024 + 10), 'big.pdf'),
    status: 413,
    code: 'payload-too-large',
  },
  {
    name: 'a file after submitting',
    request: () => grace.uploadFile('x', 'late.pdf'),
    status: 409,
    code: 'already-submitted',
  },
  {
    name: 'a file after the examinee’s deadline',
    at: 62,
    request: () => ada.uploadFile('x', 'late.pdf'),
    status: 403,
    code: 'exam-time-over',
  },
  // Time-up: a refused autosave after the deadline keeps nothing (no timeup-draft document).
  {
    name: 'a stale draft after the deadline, inside the grace',
    at: 60.5,
    request: () => ada.putDraft(2, { q1: 'b' }),
    status: 409,
    code: 'stale-draft',
  },
  {
    name: 'a time-up decision with malformed JSON',
    request: () =>
      raw('/api/proctor/exams/exam-1/participants/S3/time-up-decision', {
        method: 'POST',
        headers: { cookie: chief.cookie ?? '', origin: ORIGIN, 'content-type': 'application/json' },
        body: '{"choice":',
      }),
    status: 400,
    code: 'invalid-json',
  },
  {
    name: 'a time-up decision with an unknown choice',
    request: () =>
      chief.request('POST', '/api/proctor/exams/exam-1/participants/S3/time-up-decision', {
        submissionId: `submission:exam-1:S3:${appliance.store.applianceId}:1`,
        choice: 'the-better-one',
      }),
    status: 400,
    code: 'validation-failed',
  },
  {
    name: 'a time-up decision on a submission handed in on time',
    request: () =>
      chief.request('POST', '/api/proctor/exams/exam-1/participants/S3/time-up-decision', {
        submissionId: `submission:exam-1:S3:${appliance.store.applianceId}:1`,
        choice: 'answers-at-time-up',
      }),
    status: 409,
    code: 'not-compared-at-time-up',
  },
  {
    name: 'a time-up decision on another examinee’s submission',
    request: () =>
      chief.request('POST', '/api/proctor/exams/exam-1/participants/S1/time-up-decision', {
        submissionId: `submission:exam-1:S3:${appliance.store.applianceId}:1`,
        choice: 'submitted-file',
      }),
    status: 404,
    code: 'submission-not-found',
  },
  // Messages: proctors' threads, staff messages and examinees' questions.
  ...(
    [
      ['a message with empty text', { text: '   ' }, 400, 'validation-failed', /text must not be empty/],
      ['a message over 4000 characters', { text: 'x'.repeat(4_001) }, 400, 'validation-failed', /at most 4000/],
      ['a message to an unknown audience', { text: 'hi', audience: 'everyone' }, 400, 'validation-failed', /audience/],
      [
        'a message to the examinees’ proctors audience',
        { text: 'hi', audience: 'proctors' },
        400,
        'validation-failed',
        /audience/,
      ],
      [
        'a staff message with a studentId',
        { text: 'hi', audience: 'staff', studentId: 'S1' },
        400,
        'validation-failed',
        /staff takes no studentId/,
      ],
      [
        'a staff message with a questionId',
        { text: 'hi', audience: 'staff', questionId: 'q2' },
        400,
        'validation-failed',
        /no questionId/,
      ],
      [
        'a private message without a studentId',
        { text: 'hi', audience: 'examinee' },
        400,
        'validation-failed',
        /needs a studentId/,
      ],
      [
        'an announcement with a studentId',
        { text: 'hi', audience: 'all', studentId: 'S1' },
        400,
        'validation-failed',
        /all takes no studentId/,
      ],
      [
        'a private message to an unknown examinee',
        { text: 'hi', studentId: 'S99' },
        404,
        'examinee-not-found',
        undefined,
      ],
      [
        'a message about an unknown question',
        { text: 'hi', questionId: 'q99' },
        400,
        'validation-failed',
        /not a question/,
      ],
      ['a message with an unknown field', { text: 'hi', cc: 'everyone' }, 400, 'validation-failed', undefined],
    ] as const
  ).map(([name, body, status, code, detail]): Case => ({
    name: `proctors: ${name}`,
    request: () => chief.request('POST', '/api/proctor/exams/exam-1/messages', body),
    status,
    code,
    ...(detail === undefined ? {} : { detail }),
  })),
  {
    name: 'an examinee’s question about an unknown question',
    request: () =>
      asAda(
        '/api/exam/messages',
        'POST',
        { 'content-type': 'application/json' },
        json({ text: 'hi', questionId: 'q99' }),
      ),
    status: 400,
    code: 'validation-failed',
  },
  {
    name: 'an examinee’s empty question',
    request: () => asAda('/api/exam/messages', 'POST', { 'content-type': 'application/json' }, json({ text: ' ' })),
    status: 400,
    code: 'validation-failed',
  },
  {
    name: 'an examinee’s message pretending to be staff',
    request: () =>
      asAda(
        '/api/exam/messages',
        'POST',
        { 'content-type': 'application/json' },
        json({ text: 'hi', audience: 'staff' }),
      ),
    status: 400,
    code: 'validation-failed',
  },
  {
    name: 'an integrity event with a detail over 200 characters',
    request: () =>
      asAda(
        '/api/exam/integrity',
        'POST',
        { 'content-type': 'application/json' },
        json({ type: 'paste', detail: 'x'.repeat(201) }),
      ),
    status: 400,
    code: 'validation-failed',
  },
  // Unknown routes and ids.
  { name: 'an unknown route', request: () => raw('/api/exams/exam-1/secrets', {}), status: 404, code: 'not-found' },
  {
    name: 'the submission of someone who has none',
    request: () => asAda('/api/exam/submission'),
    status: 404,
    code: 'not-found',
  },
];

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(path.join(entry.parentPath, entry.name));
  }
  return out.sort();
}

async function snapshot() {
  const { store } = appliance;
  await store.flushIndex();
  const exam = store.projection.exams.get('exam-1');
  return {
    events: (await store.examEvents('exam-1')).map((e) => e.hash),
    journalBytes: (await stat(store.journal.filePath)).size,
    projection: JSON.stringify([...(exam?.examinees.values() ?? [])].map((e) => ({ state: e.state, draft: e.draft }))),
    drafts: JSON.stringify(await Promise.all(ROSTER.map((r) => store.draft('exam-1', r.studentId)))),
    files: await filesUnder(store.blobs.dir),
  };
}

describe('bad input is refused with a 4xx and changes nothing', () => {
  beforeAll(async () => {
    clock.set(START - 20 * MIN);
    appliance = await openTestAppliance(clock, { exam: testExam(START), roster: ROSTER });
    await addTestProctors(appliance);
    chief = new ProctorClient(appliance.app);
    expect((await chief.login('chief', 'chief-password-1')).status).toBe(200);
    ada = new ExamineeClient(appliance.app, 'S1', 'AAAA1111BBBB');
    alan = new ExamineeClient(appliance.app, 'S2', 'CCCC2222DDDD');
    grace = new ExamineeClient(appliance.app, 'S3', 'EEEE3333FFFF');
    for (const c of [ada, alan, grace]) {
      expect((await c.signIn()).status).toBe(200);
      expect((await c.get('/api/exam/package')).status).toBe(200);
    }
    expect((await alan.get('/api/exam/package')).status).toBe(200);
    clock.set(NOW);
    for (const c of [ada, alan, grace]) expect((await c.get('/api/exam/key')).status).toBe(200);
    expect((await ada.putDraft(3, { q1: 'a' })).status).toBe(200);
    const upload = await alan.uploadFile(ALANS_PDF, 'alan.pdf');
    expect(upload.status).toBe(201);
    alansFile = (await upload.json()) as { sha256: string; size: number; name: string };
    expect((await grace.submit(grace.answerFile({ q1: 'a' }))).status).toBe(201);
  });
  afterAll(async () => {
    await appliance.close();
    await removeDir(appliance.dataDir);
  });

  it('has at least 30 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(30);
  });

  it.each(CASES)('$name → $status $code', async (c) => {
    clock.set(START + (c.at ?? 10) * MIN);
    try {
      const before = await snapshot();
      const res = await c.request();
      const body = (await res.json()) as { error?: { code?: string; message?: string; detail?: unknown } };
      expect({ status: res.status, code: body.error?.code }).toEqual({ status: c.status, code: c.code });
      expect(body.error?.message).toBe(ERRORS[c.code].message);
      if (c.detail) expect(JSON.stringify(body.error)).toMatch(c.detail);
      expect(await snapshot()).toEqual(before);
    } finally {
      clock.set(NOW);
    }
  });
});
