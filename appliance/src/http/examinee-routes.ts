/**
 * The examinee API: thin handlers that validate at the edge, call ExamDay and map refusals to
 * 4xx responses with the shared error codes.
 *
 *   POST /api/session              sign in (student id + access code + device id)
 *   GET  /api/session              who am I / waiting for re-login approval?
 *   GET  /api/exam                 schedule, countdown, downloads left, status, proctoring
 *   GET  /api/exam/package         the encrypted exam package (counts a download)
 *   GET  /api/exam/key             the package key, from the official start (starts the exam)
 *   PUT  /api/exam/draft           autosave (latest counter wins)
 *   GET  /api/exam/draft           the latest autosave
 *   POST /api/exam/submission      the final answer file, streamed; answered with a receipt
 *   GET  /api/exam/submission      the accepted submission and its receipt
 *   POST /api/exam/files           a file for a file question, streamed (X-Question-Id,
 *                                  X-File-Name URI-encoded, X-Content-SHA256)
 *   GET  /api/exam/events          SSE: deadline (live with extensions), status, bathroom break,
 *                                  messages, pings;
 *                                  holding it open is the examinee's presence
 *   GET|POST /api/exam/messages    announcements and private messages / a question to proctors
 *   POST /api/exam/integrity       an integrity event (tab hidden, full screen left, paste...)
 *   POST /api/exam/lock            the device locked the exam and waits for a resume code
 *   POST /api/exam/bathroom-break  ask for a break;  POST /api/exam/bathroom-break/return
 *   POST /api/exam/verification/password | /verification/photo?kind=face|id-card
 *   POST /api/exam/snapshots?source=camera|screen   a proctoring snapshot (JPEG, X-Content-SHA256)
 *   POST /api/exam/snapshots/problem   the device cannot take a source's snapshots
 *   GET  /api/exam/resume-challenges   (challenge, salt, slow hash) triples for offline resume
 *   POST /api/exam/resume          report a resume code entered on the device (single use)
 *
 * Every request but polling carries `X-Client-Version`; authenticated ones carry
 * `Authorization: Bearer <token>`.
 */
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { answersSchema } from '../../../domain/answers.js';
import { EXAM_LOCK_REASONS, INTEGRITY_EVENT_TYPES } from '../../../domain/events.js';
import { SNAPSHOT_MAX_BYTES, SNAPSHOT_PROBLEMS, SNAPSHOT_SOURCES } from '../../../domain/exam-options.js';
import { MAX_PHOTO_BYTES, type ExamDay, type ExamineeSession } from '../exam-day.js';
import type { Monitor } from '../monitor.js';
import type { Presence } from '../presence.js';
import type { ResumeCodes } from '../resume-codes.js';
import { examineeAppUrl, requireSebFor, sebCheckFor, sebSettingsFor } from './seb.js';
import { clientAddress } from './client-address.js';
import { refusalBody, sendRefusal, sendResult } from './responses.js';
import { liveStream } from './sse.js';
import type { StreamCaps } from './stream-caps.js';
import { uploadBody } from './upload-body.js';
import { readJson } from './validate.js';

type Env = { Variables: { session: ExamineeSession } };

const deviceId = z.string().regex(/^[A-Za-z0-9_-]{16,128}$/, 'must be 16-128 letters, digits, _ or -');
const signInSchema = z.strictObject({
  studentId: z.string().min(1).max(64),
  accessCode: z.string().min(1).max(64),
  deviceId,
  examId: z.string().min(1).max(64).optional(),
});
/** The version of each question (domain/answer-sheet.ts): at most 1,000, none above the counter. */
const versionsSchema = z
  .record(z.string().max(64), z.number().int().min(0).max(Number.MAX_SAFE_INTEGER))
  .refine((v) => Object.keys(v).length <= 1_000, 'at most 1,000 versions');
const versionsUpToCounter = (d: { counter: number; versions?: Record<string, number> | undefined }) =>
  Object.values(d.versions ?? {}).every((v) => v <= d.counter);
const VERSION_ABOVE_COUNTER = { message: 'no version may be above the counter', path: ['versions'] };
const draftSchema = z
  .strictObject({
    counter: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
    answers: answersSchema,
    flagged: z.array(z.string().max(64)).max(1_000).default([]),
    versions: versionsSchema.optional(),
  })
  .refine(versionsUpToCounter, VERSION_ABOVE_COUNTER);
/** An answer sheet as the app's replication sends it (domain/answer-sheet.ts). */
const answerSheetFields = {
  id: z.string().min(1).max(200),
  counter: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  answers: answersSchema,
  flagged: z.array(z.string().max(64)).max(1_000),
  versions: versionsSchema.optional(),
  _deleted: z.boolean(),
};
const answerSheetSchema = z.strictObject(answerSheetFields).refine(versionsUpToCounter, VERSION_ABOVE_COUNTER);
/** What the device believes is stored: possibly the empty sheet (counter 0) it started from. */
const assumedSheetSchema = z.strictObject({
  ...answerSheetFields,
  counter: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
});
const answerPushSchema = z.strictObject({
  rows: z
    .array(z.strictObject({ newDocumentState: answerSheetSchema, assumedMasterState: assumedSheetSchema.optional() }))
    .min(1)
    .max(10),
});
const CLIENT_VERSION = /^\d{1,5}\.\d{1,5}\.\d{1,5}$/;
const SHA256 = /^[0-9a-f]{64}$/;

/** A file name without folders or control characters (it is shown to proctors, never used as a path). */
const PLAIN_FILE_NAME = (name: string) =>
  !name.includes('/') && !name.includes('\\') && [...name].every((ch) => ch.charCodeAt(0) >= 0x20);

/** Maximum size of an autosave body. */
export const MAX_DRAFT_BYTES = 2 * 1024 * 1024;

export interface ExamineeRouteDeps {
  examDay: ExamDay;
  presence: Presence;
  monitor: Monitor;
  resumeCodes: ResumeCodes;
  streams: StreamCaps;
}

export function examineeRoutes({ examDay, presence, monitor, resumeCodes, streams }: ExamineeRouteDeps): Hono<Env> {
  const app = new Hono<Env>();

  const clientVersion = (c: Context): string | Response => {
    const v = c.req.header('x-client-version');
    if (v === undefined) return sendRefusal(c, 'client-version-missing');
    if (!CLIENT_VERSION.test(v)) return sendRefusal(c, 'validation-failed', 'X-Client-Version must look like 1.2.3');
    return v;
  };

  const bearer = (c: Context): string | undefined => {
    const h = c.req.header('authorization');
    const m = h === undefined ? null : /^Bearer ([A-Za-z0-9_.-]{1,2048})$/.exec(h);
    return m?.[1];
  };

  app.post('/session', async (c) => {
    const version = clientVersion(c);
    if (typeof version !== 'string') return version;
    const body = await readJson(c, signInSchema, 4 * 1024);
    if (!body.ok) return body.response;
    const result = await examDay.signIn({
      ...body.value,
      clientVersion: version,
      address: clientAddress(c),
      sebCheck: (exam) => {
        const settings = sebSettingsFor(exam.doc, examineeAppUrl(c));
        if (!settings) return undefined;
        const check = sebCheckFor(c, settings);
        return check.ok ? undefined : check;
      },
    });
    if (!result.ok) return sendResult(c, result);
    const { ok: _ok, ...session } = result;
    return c.json(session, result.waitingForApproval ? 202 : 200);
  });

  app.get('/session', (c) => {
    const token = bearer(c);
    if (token === undefined) return sendRefusal(c, 'unauthenticated');
    // A second device a proctor approved gets its real token here: it continues, no new sign-in.
    const approved = examDay.approvedToken(token);
    const result = examDay.session(approved ?? token, true);
    if (!result.ok) return sendResult(c, result);
    const { claims, entry } = result.session;
    c.header('cache-control', 'no-store');
    return c.json({
      examId: claims.e,
      studentId: claims.s,
      name: entry.doc.name,
      waitingForApproval: claims.p === 1,
      status: examDay.examInfo(result.session).status,
      ...(approved === undefined ? {} : { token: approved }),
    });
  });

  // /exam and everything under it needs a live (not pending) session and a recent enough client.
  app.use('/exam/*', async (c, next) => {
    const token = bearer(c);
    if (token === undefined) return sendRefusal(c, 'unauthenticated');
    const result = examDay.session(token);
    if (!result.ok) return sendResult(c, result);
    const version = clientVersion(c);
    if (typeof version !== 'string') return version;
    const fresh = examDay.checkClientVersion(result.session.exam, version);
    if (!fresh.ok) return sendResult(c, fresh);
    c.set('session', result.session);
    presence.contact(result.session.exam.doc.examId, result.session.entry.doc.studentId);
    await next();
  });
  // An exam that requires Safe Exam Browser answers only SEB with an allowed setup.
  app.use(
    '/exam/*',
    requireSebFor<Env>(
      (c) => sebSettingsFor(c.get('session').exam.doc, examineeAppUrl(c)),
      (c, _reason, detail) => {
        const { exam, entry } = c.get('session');
        examDay.recordSebRefused(exam.doc.examId, entry.doc.studentId, detail, c.req.path);
        return Promise.resolve();
      },
    ),
  );

  app.get('/exam', (c) => c.json(examDay.examInfo(c.get('session'))));

  app.get('/exam/package', async (c) => {
    const result = await examDay.download(c.get('session'));
    if (!result.ok) return sendResult(c, result);
    return c.body(new Uint8Array(result.bytes), 200, {
      'content-type': 'application/json',
      'cache-control': 'no-store',
      'x-download-number': String(result.downloadNo),
      'x-downloads-left': String(result.downloadsLeft),
    });
  });

  app.get('/exam/key', async (c) => {
    const result = await examDay.releaseKey(c.get('session'));
    if (!result.ok) return sendResult(c, result);
    const { ok: _ok, ...body } = result;
    c.header('cache-control', 'no-store');
    return c.json(body);
  });

  app.put('/exam/draft', async (c) => {
    const body = await readJson(c, draftSchema, MAX_DRAFT_BYTES);
    if (!body.ok) return body.response;
    const result = await examDay.saveDraft(c.get('session'), body.value);
    if (!result.ok) return sendResult(c, result);
    const { ok: _ok, ...saved } = result;
    return c.json(saved);
  });

  app.get('/exam/draft', async (c) => {
    const draft = await examDay.draft(c.get('session'));
    if (!draft) return sendRefusal(c, 'not-found', 'no autosave yet');
    return c.json({
      counter: draft.counter,
      savedAt: new Date(draft.savedAt).toISOString(),
      answers: draft.answers,
      flagged: draft.flagged,
    });
  });

  /**
   * The answer-sheet replication of the app (RxDB replicateRxCollection): push the device's
   * sheet, answered with the conflicts (the stored sheet when it is as new or newer); pull the
   * stored sheet when it is newer than the device's checkpoint (e.g. on a new device).
   */
  app.post('/exam/answers/push', async (c) => {
    const body = await readJson(c, answerPushSchema, MAX_DRAFT_BYTES);
    if (!body.ok) return body.response;
    const result = await examDay.pushAnswerSheets(c.get('session'), body.value.rows);
    if (!result.ok) return sendResult(c, result);
    return c.json({ conflicts: result.conflicts });
  });

  app.get('/exam/answers/pull', async (c) => {
    const raw = c.req.query('counter') ?? '0';
    if (!/^\d{1,15}$/.test(raw)) return sendRefusal(c, 'validation-failed', 'counter must be a whole number');
    const since = Number(raw);
    const sheet = await examDay.answerSheet(c.get('session'));
    c.header('cache-control', 'no-store');
    if (!sheet || sheet.counter <= since) return c.json({ documents: [], checkpoint: { counter: since } });
    return c.json({ documents: [sheet], checkpoint: { counter: sheet.counter } });
  });

  app.post('/exam/submission', async (c) => {
    const session = c.get('session');
    const type = (c.req.header('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/json')
      return sendRefusal(c, 'unsupported-media-type', 'send the answer file as application/json');
    const sha256 = c.req.header('x-content-sha256')?.toLowerCase();
    if (sha256 === undefined || !SHA256.test(sha256))
      return sendRefusal(c, 'validation-failed', 'X-Content-SHA256 must be the hex SHA-256 of the body');
    const submissionType = c.req.header('x-submission-type') ?? 'manual';
    if (submissionType !== 'manual' && submissionType !== 'automatic') {
      return sendRefusal(c, 'validation-failed', 'X-Submission-Type must be manual or automatic');
    }
    const limit = session.exam.doc.settings.maxAnswerFileBytes;
    const declared = c.req.header('content-length');
    if (declared !== undefined && (!/^\d{1,15}$/.test(declared) || Number(declared) > limit)) {
      return sendRefusal(c, 'payload-too-large', `at most ${limit} bytes`);
    }
    const result = await examDay.submit(session, { body: () => uploadBody(c), sha256, submissionType });
    if (!result.ok) return sendResult(c, result);
    return c.json({ receipt: result.receipt, replay: result.replay }, result.replay ? 200 : 201);
  });

  app.post('/exam/files', async (c) => {
    const sha256 = c.req.header('x-content-sha256')?.toLowerCase();
    if (sha256 === undefined || !SHA256.test(sha256))
      return sendRefusal(c, 'validation-failed', 'X-Content-SHA256 must be the hex SHA-256 of the body');
    const questionId = c.req.header('x-question-id');
    if (questionId === undefined || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(questionId)) {
      return sendRefusal(c, 'validation-failed', 'X-Question-Id must name a question');
    }
    let name: string;
    try {
      name = decodeURIComponent(c.req.header('x-file-name') ?? '');
    } catch {
      return sendRefusal(c, 'validation-failed', 'X-File-Name must be URI-encoded');
    }
    if (name.length < 1 || name.length > 255 || !PLAIN_FILE_NAME(name)) {
      return sendRefusal(c, 'validation-failed', 'X-File-Name must be a plain file name of 1-255 characters');
    }
    const declared = c.req.header('content-length');
    if (declared !== undefined && !/^\d{1,15}$/.test(declared))
      return sendRefusal(c, 'validation-failed', 'bad Content-Length');
    const result = await examDay.uploadFile(c.get('session'), {
      body: () => uploadBody(c),
      questionId,
      name,
      sha256,
      declaredSize: declared === undefined ? undefined : Number(declared),
    });
    if (!result.ok) return sendResult(c, result);
    const { ok: _ok, replay, ...file } = result;
    return c.json(file, replay ? 200 : 201);
  });

  app.get('/exam/events', (c) => {
    const session = c.get('session');
    const { exam, entry } = session;
    const examId = exam.doc.examId;
    const studentId = entry.doc.studentId;
    const timeline = () => {
      const info = examDay.examInfo(session);
      return {
        status: info.status,
        deadline: info.schedule.deadline,
        countdown: info.countdown,
        downloads: info.downloads,
        // The examinee's bathroom break (none, requested, approved, later, rejected, returned):
        // a proctor's decision reaches the device through this stream.
        bathroom: entry.state.bathroom.status,
        // The submission that counts (null: none, or a proctor removed it): a device showing a
        // receipt reopens the exam when it no longer counts.
        submissionId: info.submission?.submissionId ?? null,
        // The snapshots the device takes: a proctor may change the type or the interval live.
        proctoring: info.proctoring,
      };
    };
    const token = bearer(c) ?? '';
    return liveStream(
      c,
      {
        first: () => [{ event: 'timeline', data: timeline() }],
        subscribe: (push, end) => {
          // Holding the stream open is the examinee's presence.
          const close = presence.open(examId, studentId);
          // Only this examinee's changes, exam-wide ones and messages for them: no monitor rows.
          const unsubscribe = monitor.subscribeExaminee(examId, studentId, (u) => {
            // The session moved to another device (or ended): say so, and close the stream.
            const still = examDay.session(token);
            if (!still.ok) {
              push('session', refusalBody(still.code, still.detail).error);
              end();
              return;
            }
            if (u.type === 'message') push('message', u.message);
            else push('timeline', timeline());
          });
          return () => {
            unsubscribe();
            close();
          };
        },
        ping: () => ({ serverNow: examDay.store.clock.now() }),
      },
      { caps: streams, session: `examinee:${token}` },
    );
  });

  app.get('/exam/messages', async (c) => {
    const { exam, entry } = c.get('session');
    const all = monitor.messages(exam.doc.examId);
    // Staff messages are for invigilators and the chief only: never to an examinee.
    const mine = all.filter(
      (m) => m.audience === 'all' || (m.audience !== 'staff' && m.studentId === entry.doc.studentId),
    );
    return c.json({ messages: mine });
  });

  app.post('/exam/messages', async (c) => {
    const body = await readJson(
      c,
      z.strictObject({ text: z.string().trim().min(1).max(2_000), questionId: z.string().min(1).max(64).optional() }),
      8 * 1024,
    );
    if (!body.ok) return body.response;
    const result = await examDay.askProctors(c.get('session'), body.value);
    if (!result.ok) return sendResult(c, result);
    return c.json({ messageId: result.messageId }, 201);
  });

  app.post('/exam/integrity', async (c) => {
    const body = await readJson(
      c,
      z.strictObject({ type: z.enum(INTEGRITY_EVENT_TYPES), detail: z.string().max(200).optional() }),
      2 * 1024,
    );
    if (!body.ok) return body.response;
    const result = await examDay.reportIntegrity(c.get('session'), body.value);
    if (!result.ok) return sendResult(c, result);
    return c.json({ ok: true }, 201);
  });

  app.post('/exam/lock', async (c) => {
    const body = await readJson(c, z.strictObject({ reason: z.enum(EXAM_LOCK_REASONS) }), 1024);
    if (!body.ok) return body.response;
    const result = await examDay.reportLock(c.get('session'), body.value.reason);
    if (!result.ok) return sendResult(c, result);
    return c.json({ ok: true }, 201);
  });

  app.post('/exam/bathroom-break', async (c) => {
    const result = await examDay.requestBathroomBreak(c.get('session'));
    if (!result.ok) return sendResult(c, result);
    return c.json({ status: result.status });
  });
  app.post('/exam/bathroom-break/return', async (c) => {
    const result = await examDay.returnFromBathroomBreak(c.get('session'));
    if (!result.ok) return sendResult(c, result);
    return c.json({ status: result.status });
  });

  app.post('/exam/verification/password', async (c) => {
    const body = await readJson(c, z.strictObject({ password: z.string().min(1).max(64) }), 1024);
    if (!body.ok) return body.response;
    const result = await examDay.verifyWithPassword(c.get('session'), body.value.password);
    if (!result.ok) return sendResult(c, result);
    return c.json({ verification: result.verification });
  });

  app.post('/exam/verification/photo', async (c) => {
    const kind = c.req.query('kind');
    if (kind !== 'face' && kind !== 'id-card')
      return sendRefusal(c, 'validation-failed', 'kind must be face or id-card');
    const type = (c.req.header('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'image/jpeg' && type !== 'image/png' && type !== 'image/webp')
      return sendRefusal(c, 'unsupported-media-type', 'send a JPEG, PNG or WebP photo');
    const sha256 = c.req.header('x-content-sha256')?.toLowerCase();
    if (sha256 === undefined || !SHA256.test(sha256))
      return sendRefusal(c, 'validation-failed', 'X-Content-SHA256 must be the hex SHA-256 of the body');
    const declared = c.req.header('content-length');
    if (declared !== undefined && (!/^\d{1,15}$/.test(declared) || Number(declared) > MAX_PHOTO_BYTES))
      return sendRefusal(c, 'payload-too-large', `at most ${MAX_PHOTO_BYTES} bytes`);
    const result = await examDay.submitVerificationPhoto(c.get('session'), {
      body: () => uploadBody(c),
      kind,
      sha256,
    });
    if (!result.ok) return sendResult(c, result);
    return c.json({ sha256: result.sha256, size: result.size }, 201);
  });

  // Proctoring snapshots: a small JPEG of the camera or the screen, at the exam's interval.
  app.post('/exam/snapshots', async (c) => {
    const source = c.req.query('source');
    if (source !== 'camera' && source !== 'screen')
      return sendRefusal(c, 'validation-failed', 'source must be camera or screen');
    const type = (c.req.header('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'image/jpeg') return sendRefusal(c, 'unsupported-media-type', 'send a JPEG snapshot');
    const sha256 = c.req.header('x-content-sha256')?.toLowerCase();
    if (sha256 === undefined || !SHA256.test(sha256))
      return sendRefusal(c, 'validation-failed', 'X-Content-SHA256 must be the hex SHA-256 of the body');
    const declared = c.req.header('content-length');
    if (declared !== undefined && (!/^\d{1,15}$/.test(declared) || Number(declared) > SNAPSHOT_MAX_BYTES))
      return sendRefusal(c, 'payload-too-large', `at most ${SNAPSHOT_MAX_BYTES} bytes`);
    const result = await examDay.takeSnapshot(c.get('session'), { body: () => uploadBody(c), source, sha256 });
    if (!result.ok) return sendResult(c, result);
    return c.json({ sha256: result.sha256, size: result.size }, 201);
  });
  // The device cannot take a source's snapshots (refused, no camera, sharing stopped).
  app.post('/exam/snapshots/problem', async (c) => {
    const body = await readJson(
      c,
      z.strictObject({ source: z.enum(SNAPSHOT_SOURCES), problem: z.enum(SNAPSHOT_PROBLEMS) }),
      1024,
    );
    if (!body.ok) return body.response;
    const result = await examDay.reportSnapshotProblem(c.get('session'), body.value);
    if (!result.ok) return sendResult(c, result);
    return c.json({});
  });

  app.get('/exam/resume-challenges', async (c) => {
    const { exam, entry } = c.get('session');
    const result = await resumeCodes.triples(exam.doc.examId, entry.doc.studentId);
    if (!result.ok) return sendResult(c, result);
    c.header('cache-control', 'no-store');
    return c.json({ triples: result.triples, spent: result.spent });
  });

  app.post('/exam/resume', async (c) => {
    const body = await readJson(
      c,
      z.strictObject({ challenge: z.string().min(1).max(64), resumeCode: z.string().min(1).max(64) }),
      1024,
    );
    if (!body.ok) return body.response;
    const { exam, entry } = c.get('session');
    const result = await resumeCodes.redeem(
      exam.doc.examId,
      entry.doc.studentId,
      body.value.challenge,
      body.value.resumeCode,
    );
    if (!result.ok) return sendResult(c, result);
    c.header('cache-control', 'no-store');
    return c.json({ challenge: result.challenge });
  });

  app.get('/exam/submission', async (c) => {
    const current = await examDay.currentSubmission(c.get('session'));
    if (!current) return sendRefusal(c, 'not-found', 'nothing submitted yet');
    return c.json(current);
  });

  return app;
}
