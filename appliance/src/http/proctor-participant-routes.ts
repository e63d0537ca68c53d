/**
 * The proctor API's participants (under /api/proctor, behind the proctor session):
 *
 *   GET    /exams/:examId/participants                rows; ?q= &status= &sort= &dir=
 *   GET    /exams/:examId/participants/:studentId     one row
 *   GET    /exams/:examId/participants/:studentId/events                 integrity report
 *   GET    /exams/:examId/participants/:studentId/verification-photos/:sha256
 *   GET    /exams/:examId/participants/:studentId/snapshots/:sha256   a proctoring snapshot
 *   GET    /exams/:examId/participants/:studentId/time-up              the submission's time-up case; when
 *                                                    changed after time-up, both versions and the differing questions
 *   POST   /exams/:examId/participants/:studentId/<action>   see participantActionRoutes (chief-only ones:
 *                                                    domain/proctor-roles.ts), and resume-code
 *
 * It resolves :studentId once for every route under /participants/:studentId/ (404 examinee-not-found).
 */
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import { examQuestions, type AnswerFile } from '../../../domain/answers.js';
import type { Refusal } from '../../../domain/errors.js';
import { INTEGRITY_REVIEW_STATUSES } from '../../../domain/events.js';
import { HARDWARE_CHECKS, PROCTORING_TYPES, VERIFICATION_MODES } from '../../../domain/exam-options.js';
import { activeSubmission, EXAMINEE_STATUSES } from '../../../domain/examinee-state.js';
import { queryRows, SORT_KEYS, statusCounts } from '../../../domain/monitor.js';
import type { ExamineeAction } from '../../../domain/proctor-roles.js';
import { TIME_UP_CHOICES } from '../../../domain/time-up.js';
import { HARDWARE_CHECK, MINUTES } from './proctor-exam-routes.js';
import { refuseUnlessAllowed, type ProctorDeps, type ProctorEnv } from './proctor-session.js';
import { sendRefusal, sendResult } from './responses.js';
import { readJson, readQuery } from './validate.js';

/** The image type from a photo's first bytes (never from what the examinee claimed). */
function imageType(bytes: Uint8Array): string {
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return 'image/jpeg';
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'image/png';
  if (bytes[8] === 0x57 && bytes[9] === 0x45 && bytes[10] === 0x42 && bytes[11] === 0x50) return 'image/webp';
  return 'application/octet-stream';
}

const ROW_QUERY = z.strictObject({
  q: z.string().max(100).optional(),
  status: z.enum(EXAMINEE_STATUSES).optional(),
  sort: z.enum(SORT_KEYS).optional(),
  dir: z.enum(['asc', 'desc']).optional(),
});

export function participantRoutes(app: Hono<ProctorEnv>, deps: ProctorDeps): void {
  const { store, monitor } = deps;
  app.use('/exams/:examId/participants/:studentId/*', async (c, next) => {
    const entry = store.projection.examinee(c.req.param('examId'), c.req.param('studentId'));
    if (!entry) return sendRefusal(c, 'examinee-not-found');
    c.set('entry', entry);
    await next();
  });

  app.get('/exams/:examId/participants', (c) => {
    const query = readQuery(c, ROW_QUERY);
    if (!query.ok) return query.response;
    const all = monitor.rows(c.get('exam'));
    return c.json({ rows: queryRows(all, query.value), statusCounts: statusCounts(all), total: all.length });
  });

  app.get('/exams/:examId/participants/:studentId', (c) => {
    const entry = store.projection.examinee(c.req.param('examId'), c.req.param('studentId'));
    if (!entry) return sendRefusal(c, 'examinee-not-found');
    return c.json({ row: monitor.row(c.get('exam'), entry) });
  });

  integrityRoutes(app, deps);
  timeUpRoutes(app, deps);
  participantActionRoutes(app, deps);
}

/** The examinee's integrity report, verification photos and proctoring snapshots. */
function integrityRoutes(app: Hono<ProctorEnv>, { store }: ProctorDeps): void {
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

  // A proctoring snapshot of this examinee (another examinee's, or any other file, is not found).
  app.get('/exams/:examId/participants/:studentId/snapshots/:sha256', async (c) => {
    const sha256 = c.req.param('sha256');
    if (!c.get('entry').state.snapshotHashes.includes(sha256)) return sendRefusal(c, 'file-not-found');
    const bytes = await store.blobs.read(sha256);
    c.header('cache-control', 'private, max-age=3600, immutable');
    c.header('x-content-type-options', 'nosniff');
    c.header('content-security-policy', "default-src 'none'");
    return c.body(new Uint8Array(bytes), 200, { 'content-type': imageType(bytes) });
  });
}

/**
 * The submission's time-up case; changed after time-up: the draft held at the deadline and the
 * submitted file side by side, for the chief proctor's decision.
 */
function timeUpRoutes(app: Hono<ProctorEnv>, { store }: ProctorDeps): void {
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
}

type ActionContext = Context<ProctorEnv>;

/** POST /exams/:examId/participants/:studentId/<action>: one route per action, its body typed by its schema. */
function participantActionRoutes(app: Hono<ProctorEnv>, deps: ProctorDeps): void {
  const { actions } = deps;
  const post = <S extends z.ZodType>(
    action: ExamineeAction,
    schema: S,
    run: (c: ActionContext, body: z.output<S>) => Promise<Response>,
    maxBytes = 16 * 1024,
  ) =>
    app.post(`/exams/:examId/participants/:studentId/${action}`, async (c) => {
      const denied = refuseUnlessAllowed(c, action);
      if (denied) return denied;
      const body = await readJson(c, schema, maxBytes);
      if (!body.ok) return body.response;
      return run(c, body.value);
    });
  const rowResult = (c: ActionContext, r: Refusal | { ok: true; row: unknown }) =>
    r.ok ? c.json({ row: r.row }) : sendResult(c, r);
  const who = (c: ActionContext) => [c.get('exam'), c.get('entry'), c.get('proctor')] as const;

  post(
    'max-downloads',
    z.union([
      z.strictObject({ set: z.number().int() }),
      z.strictObject({ change: z.union([z.literal(1), z.literal(-1)]) }),
    ]),
    async (c, b) => rowResult(c, await actions.setMaxDownloads(...who(c), b)),
  );
  post('reveal-contact', z.strictObject({}), async (c) => c.json(await actions.revealContact(...who(c))));
  post('late-login', z.strictObject({ minutes: MINUTES }), async (c, b) =>
    rowResult(c, await actions.setLateLogin(...who(c), b.minutes)),
  );
  post('time-extension', z.strictObject({ minutes: z.number().int().min(0).max(600) }), async (c, b) =>
    rowResult(c, await actions.setExtension(...who(c), b.minutes)),
  );
  post('accommodation', z.strictObject({ percent: z.number().int().min(0).max(400) }), async (c, b) =>
    rowResult(c, await actions.setAccommodation(...who(c), b.percent)),
  );
  post('verification-mode', z.strictObject({ mode: z.enum(VERIFICATION_MODES) }), async (c, b) =>
    rowResult(c, await actions.setVerificationMode(...who(c), b.mode)),
  );
  post('proctoring', z.strictObject({ type: z.enum(PROCTORING_TYPES) }), async (c, b) =>
    rowResult(c, await actions.setProctoring(...who(c), b.type)),
  );
  post('verification', z.strictObject({ decision: z.enum(['verified', 'rejected', 'retake']) }), async (c, b) =>
    rowResult(c, await actions.decideVerification(...who(c), b.decision)),
  );
  post('bathroom-break', z.strictObject({ decision: z.enum(['approved', 'rejected', 'later']) }), async (c, b) =>
    rowResult(c, await actions.decideBathroom(...who(c), b.decision)),
  );
  post(
    'hardware-checks',
    z.strictObject({ disabled: z.array(HARDWARE_CHECK).max(HARDWARE_CHECKS.length) }),
    async (c, b) => rowResult(c, await actions.setHardwareChecks(...who(c), b.disabled)),
  );
  post('relogin', z.strictObject({ decision: z.enum(['approve', 'reject']) }), async (c, b) =>
    rowResult(c, await actions.decideRelogin(...who(c), b.decision)),
  );
  post('remove-submission', z.strictObject({ reason: z.string().trim().min(1).max(500) }), async (c, b) =>
    rowResult(c, await actions.removeSubmission(...who(c), b.reason)),
  );
  post(
    'time-up-decision',
    z.strictObject({
      submissionId: z.string().min(1).max(200),
      choice: z.enum(TIME_UP_CHOICES),
      note: z.string().trim().max(2_000).optional(),
    }),
    async (c, b) => rowResult(c, await actions.decideTimeUp(...who(c), b)),
  );
  post(
    'integrity-review',
    z.strictObject({ status: z.enum(INTEGRITY_REVIEW_STATUSES), note: z.string().max(2_000).optional() }),
    async (c, b) => rowResult(c, await actions.setIntegrityReview(...who(c), b.status, b.note)),
  );
  // The continuation code on a locked screen → the resume code (every issue is an event).
  post(
    'resume-code',
    z.strictObject({ challenge: z.string().min(1).max(64) }),
    async (c, b) => {
      const result = await deps.resumeCodes.issue(
        c.get('exam').doc.examId,
        c.get('entry').doc.studentId,
        b.challenge,
        c.get('proctor').username,
      );
      if (!result.ok) return sendResult(c, result);
      c.header('cache-control', 'no-store');
      return c.json({ challenge: result.challenge, resumeCode: result.resumeCode });
    },
    1024,
  );
}
