/**
 * The proctor API (all under /api/proctor): sign-in with a `__Host-` session cookie, then the
 * monitor's tabs. Every state-changing request must come from this appliance's own origin
 * (Origin header), every route needs a proctor session, and chief-only actions check the role.
 *
 *   POST   /login  /logout      GET /me      GET|PUT /preferences/columns
 *   POST   /clock                                    confirm the appliance's time or set it from the device (chief)
 *   GET    /exams                                     exam list with totals
 *   GET    /exams/:examId                             Exam info (+ totals, status counts)
 *   PATCH  /exams/:examId/settings                    late-login limit, extension, hardware checks (chief)
 *   POST   /exams/:examId/verification-passwords      generate passwords (chief)
 *   GET    /exams/:examId/preview                     the exam as examinees see it
 *   GET    /exams/:examId/participants                rows; ?q= &status= &sort= &dir=
 *   GET    /exams/:examId/participants/:studentId     one row
 *   GET    /exams/:examId/participants/:studentId/events                 integrity report
 *   GET    /exams/:examId/participants/:studentId/verification-photos/:sha256
 *   GET    /exams/:examId/participants/:studentId/time-up              the submission's time-up case; when
 *                                                    changed after time-up, both versions and the differing questions
 *   POST   /exams/:examId/participants/:studentId/<action>   see ACTIONS below (time-up-decision: chief), and resume-code
 *   GET    /exams/:examId/messages    POST /exams/:examId/messages
 *   GET    /exams/:examId/monitor                     SSE: snapshot, then changes
 *   GET    /exams/:examId/report.csv  /events.jsonl   session report and event log
 *   GET    /exams/:examId/seb-config  /seb            the .seb file; its Config Key and quit password
 */
import { Hono, type Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { z } from 'zod';
import { examForExaminees, examQuestions, type AnswerFile } from '../../../domain/answers.js';
import type { Clock } from '../../../domain/clock.js';
import type { Refusal } from '../../../domain/errors.js';
import { INTEGRITY_REVIEW_STATUSES } from '../../../domain/events.js';
import { activeSubmission, EXAMINEE_STATUSES } from '../../../domain/examinee-state.js';
import { TIME_UP_CHOICES, type TimeUpChoice } from '../../../domain/time-up.js';
import type { ExamineeDoc } from '../../../domain/exam-format.js';
import { PARTICIPANT_COLUMNS, queryRows, SORT_KEYS, statusCounts } from '../../../domain/monitor.js';
import type { Monitor } from '../monitor.js';
import { CHIEF_ONLY, type ProctorActions } from '../proctor-actions.js';
import type { Proctor, ProctorAccounts } from '../proctors/accounts.js';
import type { ColumnPreferences } from '../proctors/preferences.js';
import { SESSION_MAX_MS, type ProctorSessions } from '../proctors/sessions.js';
import { FailureLimiter } from '../rate-limit.js';
import { participantsCsv, eventLogLines } from '../report.js';
import type { ResumeCodes } from '../resume-codes.js';
import { examineeAppUrl, sebConfigInfo, sendSebConfig } from './seb.js';
import type { ExamEntry, ExamineeEntry } from '../store/projection.js';
import type { HallStore } from '../store/hall-store.js';
import type { ClockTrust } from '../time/clock-trust.js';
import { clientAddress } from './client-address.js';
import { sendRefusal, sendResult } from './responses.js';
import { liveStream } from './sse.js';
import { readJson, readQuery } from './validate.js';

export const PROCTOR_COOKIE = '__Host-proctor';

/** The image type from a photo's first bytes (never from what the examinee claimed). */
function imageType(bytes: Uint8Array): string {
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return 'image/jpeg';
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'image/png';
  if (bytes[8] === 0x57 && bytes[9] === 0x45 && bytes[10] === 0x42 && bytes[11] === 0x50) return 'image/webp';
  return 'application/octet-stream';
}

type Env = { Variables: { proctor: Proctor; exam: ExamEntry; entry: ExamineeEntry & { doc: ExamineeDoc } } };

export interface ProctorDeps {
  store: HallStore;
  clock: Clock;
  accounts: ProctorAccounts;
  sessions: ProctorSessions;
  monitor: Monitor;
  actions: ProctorActions;
  preferences: ColumnPreferences;
  resumeCodes: ResumeCodes;
  clockTrust: ClockTrust;
}

/** Times a proctor's device can plausibly send (a device clock at 1970 is not a time to set). */
const PLAUSIBLE_TIME = z
  .number()
  .int()
  .min(Date.UTC(2026, 0, 1))
  .max(Date.UTC(2100, 0, 1));
const CLOCK_BODY = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('confirm') }),
  z.strictObject({ action: z.literal('set'), now: PLAUSIBLE_TIME }),
]);

const hardwareCheck = z.enum(['multiple-screens', 'microphone', 'camera', 'fullscreen']);
const minutes = z
  .number()
  .int()
  .min(0)
  .max(24 * 60);
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function proctorRoutes(deps: ProctorDeps): Hono<Env> {
  const { store, accounts, sessions, monitor, actions } = deps;
  const app = new Hono<Env>();
  const byUser = new FailureLimiter(deps.clock, 5, 15 * 60_000);
  const byAddress = new FailureLimiter(deps.clock, 30, 15 * 60_000);

  // Cross-site requests cannot change anything: the Origin must be this appliance's own.
  app.use('*', async (c, next) => {
    if (STATE_CHANGING.has(c.req.method)) {
      const origin = c.req.header('origin');
      if (origin === undefined || origin !== new URL(c.req.url).origin) {
        return sendRefusal(c, 'origin-mismatch', origin === undefined ? 'no Origin header' : `Origin ${origin}`);
      }
    }
    await next();
  });

  app.post('/login', async (c) => {
    const body = await readJson(
      c,
      z.strictObject({ username: z.string().min(1).max(64), password: z.string().min(1).max(256) }),
      4 * 1024,
    );
    if (!body.ok) return body.response;
    const { username, password } = body.value;
    const address = clientAddress(c);
    if (byUser.blocked(username) || byAddress.blocked(address)) return sendRefusal(c, 'too-many-attempts');
    const proctor = await accounts.authenticate(username, password);
    if (!proctor) {
      byUser.fail(username);
      byAddress.fail(address);
      return sendRefusal(c, 'proctor-login-failed');
    }
    byUser.clear(username);
    const token = sessions.create(proctor);
    setCookie(c, PROCTOR_COOKIE, token, {
      path: '/',
      secure: true,
      httpOnly: true,
      sameSite: 'Strict',
      maxAge: SESSION_MAX_MS / 1000,
    });
    return c.json({ proctor });
  });

  // Everything below needs a proctor session.
  app.use('*', async (c, next) => {
    const token = getCookie(c, PROCTOR_COOKIE);
    const proctor = token === undefined ? undefined : sessions.touch(token);
    if (!proctor) return sendRefusal(c, 'unauthenticated', 'sign in as a proctor');
    // A removed account or a changed role takes effect at once.
    const current = await accounts.find(proctor.username);
    if (!current || current.role !== proctor.role) {
      if (token !== undefined) sessions.end(token);
      return sendRefusal(c, 'unauthenticated', 'your account changed: sign in again');
    }
    c.set('proctor', current);
    await next();
  });

  app.post('/logout', (c) => {
    const token = getCookie(c, PROCTOR_COOKIE);
    if (token !== undefined) sessions.end(token);
    deleteCookie(c, PROCTOR_COOKIE, { path: '/', secure: true });
    return c.json({ ok: true });
  });

  app.get('/me', (c) => c.json({ proctor: c.get('proctor') }));

  // The appliance's time on an untrusted clock (no NTP): a chief proctor confirms it, or sets it
  // from their device's time. Recorded as a clock-confirmed event in every exam's log.
  app.post('/clock', async (c) => {
    const proctor = c.get('proctor');
    if (proctor.role !== 'chief') return sendRefusal(c, 'forbidden-role', 'confirm or set the clock');
    const body = await readJson(c, CLOCK_BODY, 1024);
    if (!body.ok) return body.response;
    const clock = deps.clockTrust;
    const previousOffsetMs = clock.status().offsetMs;
    if (body.value.action === 'set') {
      const done = await clock.set(body.value.now, proctor.username);
      if (!done.ok) return sendRefusal(c, 'clock-synchronised', `source: ${done.status.source}`);
    } else await clock.confirm(proctor.username);
    const status = clock.status();
    await Promise.all(
      [...store.projection.exams.keys()].map(
        (examId) =>
          store.record(examId, [
            {
              kind: 'clock-confirmed',
              actor: { role: 'proctor', username: proctor.username },
              data: { action: body.value.action, offsetMs: status.offsetMs, previousOffsetMs },
            },
          ]).durable,
      ),
    );
    const now = clock.now();
    return c.json({ now, iso: new Date(now).toISOString(), trusted: status.trusted, source: status.source });
  });

  app.get('/preferences/columns', async (c) =>
    c.json({ columns: await deps.preferences.get(c.get('proctor').username), available: PARTICIPANT_COLUMNS }),
  );
  app.put('/preferences/columns', async (c) => {
    const body = await readJson(
      c,
      z.strictObject({ columns: z.array(z.enum(PARTICIPANT_COLUMNS)).min(1).max(PARTICIPANT_COLUMNS.length) }),
    );
    if (!body.ok) return body.response;
    const columns = [...new Set(body.value.columns)];
    await deps.preferences.set(c.get('proctor').username, columns);
    return c.json({ columns });
  });

  app.get('/exams', (c) =>
    c.json({
      exams: [...store.projection.exams.values()].map((exam) => {
        const info = monitor.examInfo(exam);
        return {
          examId: info.examId,
          title: info.title,
          scheduledStart: info.scheduledStart,
          totals: info.totals,
          statusCounts: info.statusCounts,
        };
      }),
    }),
  );

  // Resolve :examId (and :studentId) once for every route below.
  app.use('/exams/:examId/*', async (c, next) => {
    const exam = store.projection.exams.get(c.req.param('examId'));
    if (!exam) return sendRefusal(c, 'exam-not-found');
    c.set('exam', exam);
    await next();
  });
  app.use('/exams/:examId/participants/:studentId/*', async (c, next) => {
    const entry = store.projection.examinee(c.req.param('examId'), c.req.param('studentId'));
    if (!entry) return sendRefusal(c, 'examinee-not-found');
    c.set('entry', entry);
    await next();
  });
  const chiefOnly = (c: Context<Env>, action: string): Response | undefined =>
    CHIEF_ONLY.has(action) && c.get('proctor').role !== 'chief' ? sendRefusal(c, 'forbidden-role', action) : undefined;

  app.get('/exams/:examId', (c) => c.json(monitor.examInfo(c.get('exam'))));

  app.patch('/exams/:examId/settings', async (c) => {
    const denied = chiefOnly(c, 'exam-settings');
    if (denied) return denied;
    const body = await readJson(
      c,
      z.strictObject({
        lateLoginMinutes: minutes.optional(),
        extraMinutes: minutes.optional(),
        disabledHardwareChecks: z.array(hardwareCheck).max(4).optional(),
      }),
    );
    if (!body.ok) return body.response;
    const result = await actions.setExamSettings(c.get('exam'), c.get('proctor'), body.value);
    if (!result.ok) return sendResult(c, result);
    return c.json(result.info);
  });

  app.post('/exams/:examId/verification-passwords', async (c) => {
    const denied = chiefOnly(c, 'verification-passwords');
    if (denied) return denied;
    const body = await readJson(c, z.strictObject({ count: z.number().int().min(1).max(2_000) }));
    if (!body.ok) return body.response;
    const passwords = await actions.generateVerificationPasswords(c.get('exam'), c.get('proctor'), body.value.count);
    c.header('cache-control', 'no-store');
    return c.json({ passwords });
  });

  app.get('/exams/:examId/preview', (c) => {
    const { _id, _rev, type, schemaVersion, version, ...file } = c.get('exam').doc;
    void _id;
    void _rev;
    void type;
    void schemaVersion;
    return c.json({ version, exam: examForExaminees(file) });
  });

  const rowQuery = z.strictObject({
    q: z.string().max(100).optional(),
    status: z.enum(EXAMINEE_STATUSES).optional(),
    sort: z.enum(SORT_KEYS).optional(),
    dir: z.enum(['asc', 'desc']).optional(),
  });
  app.get('/exams/:examId/participants', (c) => {
    const query = readQuery(c, rowQuery);
    if (!query.ok) return query.response;
    const all = monitor.rows(c.get('exam'));
    return c.json({ rows: queryRows(all, query.value), statusCounts: statusCounts(all), total: all.length });
  });

  app.get('/exams/:examId/participants/:studentId', (c) => {
    const entry = store.projection.examinee(c.req.param('examId'), c.req.param('studentId'));
    if (!entry) return sendRefusal(c, 'examinee-not-found');
    return c.json({ row: monitor.row(c.get('exam'), entry) });
  });

  // The examinee's own events: the integrity report (what their device reported, what proctors did).
  app.get('/exams/:examId/participants/:studentId/events', async (c) => {
    await store.flushIndex();
    const studentId = c.get('entry').doc.studentId;
    const events = (await store.examEvents(c.get('exam').doc.examId)).filter((e) => e.studentId === studentId);
    return c.json({
      events: events.map((e) => ({
        seq: e.seq,
        at: new Date(e.at).toISOString(),
        kind: e.kind,
        actor: e.actor,
        data: e.data,
      })),
    });
  });

  // A verification photo the examinee sent (face or ID card), for the verify / reject / retake decision.
  app.get('/exams/:examId/participants/:studentId/verification-photos/:sha256', async (c) => {
    const sha256 = c.req.param('sha256');
    const photo = c.get('entry').state.verificationPhotos.find((p) => p.sha256 === sha256);
    if (!photo) return sendRefusal(c, 'file-not-found');
    const bytes = await store.blobs.read(sha256);
    c.header('cache-control', 'private, no-store');
    c.header('x-content-type-options', 'nosniff');
    c.header('content-security-policy', "default-src 'none'");
    return c.body(new Uint8Array(bytes), 200, { 'content-type': imageType(bytes) });
  });

  // The submission's time-up case; changed after time-up: the draft held at the deadline and the
  // submitted file side by side, for the chief proctor's decision.
  app.get('/exams/:examId/participants/:studentId/time-up', async (c) => {
    const exam = c.get('exam');
    const submission = activeSubmission(c.get('entry').state);
    if (!submission) return c.json({ submission: null, timeUp: null });
    const answersOf = async (sha256: string) =>
      (JSON.parse((await store.blobs.read(sha256)).toString('utf8')) as AnswerFile).answers;
    const t = submission.timeUp;
    const prompts = new Map(examQuestions(exam.doc).map((q) => [q.id, q.prompt]));
    c.header('cache-control', 'private, no-store');
    return c.json({
      submission: {
        submissionId: submission.submissionId,
        at: new Date(submission.at).toISOString(),
        submissionType: submission.submissionType,
        timing: submission.timing,
        late: submission.late,
        differingAnswers: submission.differingAnswers ?? null,
      },
      timeUp: t
        ? {
            differingQuestions: t.differingQuestions.map((id) => ({ id, prompt: prompts.get(id) ?? '' })),
            unseenMs: t.unseenMs,
            decision: t.decision
              ? {
                  choice: t.decision.choice,
                  by: t.decision.by,
                  at: new Date(t.decision.at).toISOString(),
                  note: t.decision.note ?? null,
                }
              : null,
            answersAtTimeUp: { sha256: t.draftSha256, answers: await answersOf(t.draftSha256) },
            submittedFile: { sha256: submission.sha256, answers: await answersOf(submission.sha256) },
          }
        : null,
    });
  });

  // ---- Per-examinee actions: POST /exams/:examId/participants/:studentId/<name> ----
  const rowResult = (c: Context<Env>, r: Refusal | { ok: true; row: unknown }) =>
    r.ok ? c.json({ row: r.row }) : sendResult(c, r);
  const ACTIONS: Record<string, { schema: z.ZodType; run: (c: Context<Env>, body: never) => Promise<Response> }> = {
    'max-downloads': {
      schema: z.union([
        z.strictObject({ set: z.number().int() }),
        z.strictObject({ change: z.union([z.literal(1), z.literal(-1)]) }),
      ]),
      run: async (c, b: { set?: number; change?: number }) =>
        rowResult(c, await actions.setMaxDownloads(c.get('exam'), c.get('entry'), c.get('proctor'), b)),
    },
    'reveal-contact': {
      schema: z.strictObject({}),
      run: async (c) => c.json(await actions.revealContact(c.get('exam'), c.get('entry'), c.get('proctor'))),
    },
    'late-login': {
      schema: z.strictObject({ minutes }),
      run: async (c, b: { minutes: number }) =>
        rowResult(c, await actions.setLateLogin(c.get('exam'), c.get('entry'), c.get('proctor'), b.minutes)),
    },
    'time-extension': {
      schema: z.strictObject({ minutes: z.number().int().min(0).max(600) }),
      run: async (c, b: { minutes: number }) =>
        rowResult(c, await actions.setExtension(c.get('exam'), c.get('entry'), c.get('proctor'), b.minutes)),
    },
    accommodation: {
      schema: z.strictObject({ percent: z.number().int().min(0).max(400) }),
      run: async (c, b: { percent: number }) =>
        rowResult(c, await actions.setAccommodation(c.get('exam'), c.get('entry'), c.get('proctor'), b.percent)),
    },
    'verification-mode': {
      schema: z.strictObject({ mode: z.enum(['manual', 'password', 'camera']) }),
      run: async (c, b: { mode: 'manual' | 'password' | 'camera' }) =>
        rowResult(c, await actions.setVerificationMode(c.get('exam'), c.get('entry'), c.get('proctor'), b.mode)),
    },
    verification: {
      schema: z.strictObject({ decision: z.enum(['verified', 'rejected', 'retake']) }),
      run: async (c, b: { decision: 'verified' | 'rejected' | 'retake' }) =>
        rowResult(c, await actions.decideVerification(c.get('exam'), c.get('entry'), c.get('proctor'), b.decision)),
    },
    'bathroom-break': {
      schema: z.strictObject({ decision: z.enum(['approved', 'rejected', 'later']) }),
      run: async (c, b: { decision: 'approved' | 'rejected' | 'later' }) =>
        rowResult(c, await actions.decideBathroom(c.get('exam'), c.get('entry'), c.get('proctor'), b.decision)),
    },
    'hardware-checks': {
      schema: z.strictObject({ disabled: z.array(hardwareCheck).max(4) }),
      run: async (c, b: { disabled: z.infer<typeof hardwareCheck>[] }) =>
        rowResult(c, await actions.setHardwareChecks(c.get('exam'), c.get('entry'), c.get('proctor'), b.disabled)),
    },
    relogin: {
      schema: z.strictObject({ decision: z.enum(['approve', 'reject']) }),
      run: async (c, b: { decision: 'approve' | 'reject' }) =>
        rowResult(c, await actions.decideRelogin(c.get('exam'), c.get('entry'), c.get('proctor'), b.decision)),
    },
    'remove-submission': {
      schema: z.strictObject({ reason: z.string().trim().min(1).max(500) }),
      run: async (c, b: { reason: string }) =>
        rowResult(c, await actions.removeSubmission(c.get('exam'), c.get('entry'), c.get('proctor'), b.reason)),
    },
    'time-up-decision': {
      schema: z.strictObject({
        submissionId: z.string().min(1).max(200),
        choice: z.enum(TIME_UP_CHOICES),
        note: z.string().trim().max(2_000).optional(),
      }),
      run: async (c, b: { submissionId: string; choice: TimeUpChoice; note?: string }) =>
        rowResult(c, await actions.decideTimeUp(c.get('exam'), c.get('entry'), c.get('proctor'), b)),
    },
    'integrity-review': {
      schema: z.strictObject({ status: z.enum(INTEGRITY_REVIEW_STATUSES), note: z.string().max(2_000).optional() }),
      run: async (c, b: { status: (typeof INTEGRITY_REVIEW_STATUSES)[number]; note?: string }) =>
        rowResult(
          c,
          await actions.setIntegrityReview(c.get('exam'), c.get('entry'), c.get('proctor'), b.status, b.note),
        ),
    },
  };
  for (const [name, action] of Object.entries(ACTIONS)) {
    app.post(`/exams/:examId/participants/:studentId/${name}`, async (c) => {
      const denied = chiefOnly(c, name);
      if (denied) return denied;
      const body = await readJson(c, action.schema, 16 * 1024);
      if (!body.ok) return body.response;
      return action.run(c, body.value as never);
    });
  }
  // The continuation code on a locked screen → the resume code (every issue is an event).
  app.post('/exams/:examId/participants/:studentId/resume-code', async (c) => {
    const body = await readJson(c, z.strictObject({ challenge: z.string().min(1).max(64) }), 1024);
    if (!body.ok) return body.response;
    const result = await deps.resumeCodes.issue(
      c.get('exam').doc.examId,
      c.get('entry').doc.studentId,
      body.value.challenge,
      c.get('proctor').username,
    );
    if (!result.ok) return sendResult(c, result);
    c.header('cache-control', 'no-store');
    return c.json({ challenge: result.challenge, resumeCode: result.resumeCode });
  });

  app.get('/exams/:examId/messages', async (c) => c.json({ messages: monitor.messages(c.get('exam').doc.examId) }));
  app.post('/exams/:examId/messages', async (c) => {
    const body = await readJson(
      c,
      z.strictObject({
        text: z.string().trim().min(1).max(4_000),
        studentId: z.string().min(1).max(64).optional(),
        questionId: z.string().min(1).max(64).optional(),
      }),
      16 * 1024,
    );
    if (!body.ok) return body.response;
    const exam = c.get('exam');
    if (body.value.studentId !== undefined && !store.projection.examinee(exam.doc.examId, body.value.studentId))
      return sendRefusal(c, 'examinee-not-found');
    const messageId = await actions.sendMessage(exam, c.get('proctor'), body.value);
    return c.json({ messageId }, 201);
  });

  app.get('/exams/:examId/monitor', (c) => {
    const exam = c.get('exam');
    return liveStream(c, {
      first: () => {
        const rows = monitor.rows(exam);
        return [
          {
            event: 'snapshot',
            data: { exam: monitor.examInfo(exam, rows), rows, messages: monitor.messages(exam.doc.examId) },
          },
        ];
      },
      subscribe: (push) =>
        monitor.subscribe(exam.doc.examId, (u) => {
          if (u.type === 'row') push('row', u.row);
          else if (u.type === 'exam') push('exam', u.info);
          else push('message', u.message);
        }),
      ping: () => ({ serverNow: deps.clock.now() }),
    });
  });

  // Safe Exam Browser: the .seb file to hand out, and its Config Key / quit password for staff.
  app.get('/exams/:examId/seb-config', (c) => sendSebConfig(c, c.get('exam').doc));
  app.get('/exams/:examId/seb', (c) => {
    c.header('cache-control', 'no-store');
    return c.json(sebConfigInfo(c.get('exam').doc, examineeAppUrl(c)));
  });

  app.get('/exams/:examId/report.csv', (c) => {
    const exam = c.get('exam');
    c.header('content-disposition', `attachment; filename="${exam.doc.examId}-participants.csv"`);
    c.header('content-type', 'text/csv; charset=utf-8');
    return c.body(participantsCsv(monitor.rows(exam)));
  });
  app.get('/exams/:examId/events.jsonl', async (c) => {
    const exam = c.get('exam');
    await store.flushIndex();
    c.header('content-disposition', `attachment; filename="${exam.doc.examId}-events.jsonl"`);
    c.header('content-type', 'application/x-ndjson; charset=utf-8');
    return c.body(eventLogLines(await store.examEvents(exam.doc.examId)));
  });

  return app;
}
