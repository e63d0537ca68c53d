/**
 * The proctor API's exams (under /api/proctor, behind the proctor session):
 *
 *   GET    /exams                                     exam list with totals
 *   GET    /exams/:examId                             Exam info (+ totals, status counts)
 *   PATCH  /exams/:examId/settings                    late-login limit, extension, hardware checks,
 *                                                    networks, verification and proctoring types (chief)
 *   POST   /exams/:examId/verification-passwords      generate passwords (chief)
 *   GET    /exams/:examId/preview                     the exam as examinees see it (before the start: chief)
 *   GET    /exams/:examId/exam-password               the exam password (chief; recorded)
 *   GET    /exams/:examId/questions                   question ids and numbers (prompt excerpts
 *                                                    once the paper may be read)
 *   GET    /exams/:examId/messages    POST /exams/:examId/messages
 *   GET    /exams/:examId/monitor                     SSE: snapshot, then changes
 *   GET    /exams/:examId/report.csv  /events.jsonl   session report and event log
 *   GET    /exams/:examId/seb-config  /seb            the .seb file; its Config Key and quit password
 *
 * It also resolves :examId once for every route under /exams/:examId/ (404 exam-not-found).
 */
import type { Hono } from 'hono';
import { z } from 'zod';
import { examForExaminees, examQuestions } from '../../../domain/answers.js';
import {
  HARDWARE_CHECKS,
  PROCTORING_TYPES,
  SNAPSHOT_INTERVAL_SECONDS,
  VERIFICATION_MODES,
} from '../../../domain/exam-options.js';
import { mayPerform } from '../../../domain/proctor-roles.js';
import { MAX_ALLOWED_NETWORKS, parseNetwork } from '../../../domain/networks.js';
import type { ExamSummary, MonitorSnapshot } from '../../../domain/monitor.js';
import { participantsCsv, eventLogLines } from '../report.js';
import { examineeAppUrl, sebConfigInfo, sendSebConfig } from './seb.js';
import { getCookie } from 'hono/cookie';
import { PROCTOR_COOKIE, refuseUnlessAllowed, type ProctorDeps, type ProctorEnv } from './proctor-session.js';
import { sendRefusal, sendResult } from './responses.js';
import { liveStream } from './sse.js';
import { readJson } from './validate.js';

/** How much of a question's prompt labels it in the Messages tab. */
const QUESTION_EXCERPT_LENGTH = 60;

export const HARDWARE_CHECK = z.enum(HARDWARE_CHECKS);
export const MINUTES = z
  .number()
  .int()
  .min(0)
  .max(24 * 60);

/** Seconds between two proctoring snapshots. */
export const SNAPSHOT_INTERVAL = z
  .number()
  .int('the interval is a whole number of seconds')
  .min(SNAPSHOT_INTERVAL_SECONDS.min, `the interval is at least ${SNAPSHOT_INTERVAL_SECONDS.min} seconds`)
  .max(SNAPSHOT_INTERVAL_SECONDS.max, `the interval is at most ${SNAPSHOT_INTERVAL_SECONDS.max} seconds`);

const SETTINGS_BODY = z.strictObject({
  lateLoginMinutes: MINUTES.optional(),
  extraMinutes: MINUTES.optional(),
  disabledHardwareChecks: z.array(HARDWARE_CHECK).max(HARDWARE_CHECKS.length).optional(),
  allowedNetworks: z
    .array(z.string().max(64, 'an address range is at most 64 characters'))
    .max(MAX_ALLOWED_NETWORKS, `at most ${MAX_ALLOWED_NETWORKS} address ranges`)
    .superRefine((ranges, ctx) => {
      for (const r of ranges) {
        const parsed = parseNetwork(r);
        if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.message });
      }
    })
    .optional(),
  verificationMode: z.enum(VERIFICATION_MODES).optional(),
  proctoringType: z.enum(PROCTORING_TYPES).optional(),
  snapshotIntervalSeconds: SNAPSHOT_INTERVAL.optional(),
});
/**
 * A proctor's message. `audience` defaults to `examinee` with a studentId, else `all`; `staff` is
 * for invigilators and the chief only, so it takes neither studentId nor questionId.
 */
const MESSAGE_BODY = z
  .strictObject({
    text: z.string().trim().min(1, 'text must not be empty').max(4_000, 'text is at most 4000 characters'),
    audience: z
      .enum(['all', 'examinee', 'staff'], { message: "audience must be 'all', 'examinee' or 'staff'" })
      .optional(),
    studentId: z.string().min(1).max(64).optional(),
    questionId: z.string().min(1).max(64).optional(),
  })
  .superRefine((b, ctx) => {
    const audience = b.audience ?? (b.studentId === undefined ? 'all' : 'examinee');
    if (audience === 'examinee' && b.studentId === undefined)
      ctx.addIssue({ code: 'custom', path: ['studentId'], message: 'a private message needs a studentId' });
    if (audience !== 'examinee' && b.studentId !== undefined)
      ctx.addIssue({ code: 'custom', path: ['studentId'], message: `a message to ${audience} takes no studentId` });
    if (audience === 'staff' && b.questionId !== undefined)
      ctx.addIssue({ code: 'custom', path: ['questionId'], message: 'a staff message takes no questionId' });
  })
  .transform((b) => ({ ...b, audience: b.audience ?? (b.studentId === undefined ? 'all' : 'examinee') }));

export function examRoutes(app: Hono<ProctorEnv>, deps: ProctorDeps): void {
  const { store, monitor } = deps;
  app.get('/exams', (c) =>
    c.json({
      exams: [...store.projection.exams.values()].map((exam): ExamSummary => {
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

  // Resolve :examId once for every route below.
  app.use('/exams/:examId/*', async (c, next) => {
    const exam = store.projection.exams.get(c.req.param('examId'));
    if (!exam) return sendRefusal(c, 'exam-not-found');
    c.set('exam', exam);
    await next();
  });

  app.get('/exams/:examId', (c) => c.json(monitor.examInfo(c.get('exam'))));
  examSettingsRoutes(app, deps);
  messageRoutes(app, deps);
  monitorRoutes(app, deps);
  reportRoutes(app, deps);
}

/** Exam-wide settings and verification passwords (chief), and the examinees' view of the exam. */
function examSettingsRoutes(app: Hono<ProctorEnv>, { actions, store }: ProctorDeps): void {
  app.patch('/exams/:examId/settings', async (c) => {
    const denied = refuseUnlessAllowed(c, 'exam-settings');
    if (denied) return denied;
    const body = await readJson(c, SETTINGS_BODY);
    if (!body.ok) return body.response;
    const result = await actions.setExamSettings(c.get('exam'), c.get('proctor'), body.value);
    if (!result.ok) return sendResult(c, result);
    return c.json(result.info);
  });

  app.post('/exams/:examId/verification-passwords', async (c) => {
    const denied = refuseUnlessAllowed(c, 'verification-passwords');
    if (denied) return denied;
    const body = await readJson(c, z.strictObject({ count: z.number().int().min(1).max(2_000) }));
    if (!body.ok) return body.response;
    const passwords = await actions.generateVerificationPasswords(c.get('exam'), c.get('proctor'), body.value.count);
    c.header('cache-control', 'no-store');
    return c.json({ passwords });
  });

  // The paper as examinees see it: before the start for a chief only; every reading is recorded.
  app.get('/exams/:examId/preview', async (c) => {
    const exam = c.get('exam');
    const beforeStart = store.clock.now() < Date.parse(exam.doc.scheduledStart);
    if (beforeStart) {
      const denied = refuseUnlessAllowed(c, 'preview-before-start');
      if (denied) return denied;
    }
    await actions.recordPreview(exam, c.get('proctor'), beforeStart);
    const { _id, _rev, type, schemaVersion, version, ...file } = exam.doc;
    void _id;
    void _rev;
    void type;
    void schemaVersion;
    c.header('cache-control', 'private, no-store');
    return c.json({ version, exam: examForExaminees(file) });
  });

  // What the Messages tab labels questions with: every proctor gets each question's number; the
  // first words of its prompt only once this proctor may read the paper (not recorded as a view).
  app.get('/exams/:examId/questions', (c) => {
    const exam = c.get('exam');
    const beforeStart = store.clock.now() < Date.parse(exam.doc.scheduledStart);
    const mayRead = !beforeStart || mayPerform(c.get('proctor').role, 'preview-before-start');
    const questions = examQuestions(exam.doc).map((q, i) => ({
      questionId: q.id,
      number: i + 1,
      excerpt: mayRead ? q.prompt.slice(0, QUESTION_EXCERPT_LENGTH) : null,
    }));
    c.header('cache-control', 'private, no-store');
    return c.json({ questions });
  });

  // The exam password (chief), to read out when the key cannot reach the examinees; recorded.
  app.get('/exams/:examId/exam-password', async (c) => {
    const denied = refuseUnlessAllowed(c, 'exam-password');
    if (denied) return denied;
    const password = await actions.examPassword(c.get('exam'), c.get('proctor'));
    c.header('cache-control', 'no-store');
    return c.json({ password });
  });
}

/** Messages to the hall or to one examinee, and the examinees' questions. */
function messageRoutes(app: Hono<ProctorEnv>, { store, monitor, actions }: ProctorDeps): void {
  app.get('/exams/:examId/messages', async (c) => c.json({ messages: monitor.messages(c.get('exam').doc.examId) }));
  app.post('/exams/:examId/messages', async (c) => {
    const body = await readJson(c, MESSAGE_BODY, 16 * 1024);
    if (!body.ok) return body.response;
    const exam = c.get('exam');
    if (body.value.studentId !== undefined && !store.projection.examinee(exam.doc.examId, body.value.studentId))
      return sendRefusal(c, 'examinee-not-found');
    const { questionId } = body.value;
    if (questionId !== undefined && !examQuestions(exam.doc).some((q) => q.id === questionId))
      return sendRefusal(c, 'validation-failed', 'questionId is not a question of this exam');
    const messageId = await actions.sendMessage(exam, c.get('proctor'), body.value);
    return c.json({ messageId }, 201);
  });
}

/** The live monitor: a snapshot, then each changed row, exam info or message. */
function monitorRoutes(app: Hono<ProctorEnv>, { monitor, clock, streams }: ProctorDeps): void {
  app.get('/exams/:examId/monitor', (c) => {
    const exam = c.get('exam');
    const session = `proctor:${getCookie(c, PROCTOR_COOKIE) ?? ''}`;
    return liveStream(
      c,
      {
        first: () => {
          const rows = monitor.rows(exam);
          return [
            {
              event: 'snapshot',
              data: {
                exam: monitor.examInfo(exam, rows),
                rows,
                messages: monitor.messages(exam.doc.examId),
              } satisfies MonitorSnapshot,
            },
          ];
        },
        subscribe: (push) =>
          monitor.subscribe(exam.doc.examId, (u) => {
            if (u.type === 'row') push('row', u.row);
            else if (u.type === 'exam') push('exam', u.info);
            else push('message', u.message);
          }),
        ping: () => ({ serverNow: clock.now() }),
      },
      { caps: streams, session },
    );
  });
}

/** Safe Exam Browser files, the session report and the event log. */
function reportRoutes(app: Hono<ProctorEnv>, { store, monitor }: ProctorDeps): void {
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
}
