/**
 * The examinee's exam day on this appliance: sign-in, exam info, download, key release,
 * autosave and submission. Pure rules come from domain/; this layer reads the projection,
 * records events durably and returns values (refusals carry the shared error codes).
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { accessCodeHash, constantTimeEqualHex } from '../../domain/access-code.js';
import {
  answeredCount,
  examQuestions,
  answersFitExam,
  canonicalAnswerFile,
  gradeClosedQuestions,
  type AnswerFile,
} from '../../domain/answers.js';
import {
  answerSheetId,
  mergeAnswerSheets,
  serialiseAnswerFile,
  questionVersion,
  type AnswerSheet,
  type SheetState,
} from '../../domain/answer-sheet.js';
import {
  decideAnswerFiles,
  decideDownload,
  decideDraft,
  decideFileUpload,
  decideSignIn,
  decideStart,
  decideSubmission,
} from '../../domain/exam-day-rules.js';
import { timeLeftMs } from '../../domain/exam-clock.js';
import { refuse, type Refusal, type Result } from '../../domain/errors.js';
import { normaliseAccessCode, SCHEMA_VERSION, type ExamineeDoc } from '../../domain/exam-format.js';
import type { EventData, IntegrityEventType, NewEvent } from '../../domain/events.js';
import { activeSubmission, examineeStatus } from '../../domain/examinee-state.js';
import { meetsMinimumVersion } from '../../domain/version.js';
import {
  answerDigests,
  decideTiming,
  needsComparison,
  type PresenceAtDeadline,
  type TimingDecision,
} from '../../domain/time-up.js';
import { inThreadAnswerFileChecker, type AnswerFileChecker } from './answer-files/checker.js';
import type { ExamPackage } from '../../domain/exam-package.js';
import type { Receipt } from './crypto/receipts.js';
import { SessionTokens, type SessionClaims } from './crypto/session-token.js';
import { ExamPackages } from './exam-packages.js';
import { KeyedLock } from './keyed-lock.js';
import { FailureLimiter } from './rate-limit.js';
import type { ReceivedBlob, UploadBody } from './store/blob-store.js';
import { submissionDocId, type HallStore, type SubmissionDoc } from './store/hall-store.js';
import {
  effectiveAccommodation,
  effectiveMaxDownloads,
  type ExamEntry,
  type ExamineeEntry,
  type TimeUpSeal,
} from './store/projection.js';

/** An authenticated examinee request's context. */
export interface ExamineeSession {
  claims: SessionClaims;
  exam: ExamEntry;
  entry: ExamineeEntry & { doc: ExamineeDoc };
}

export interface ExamDayOptions {
  /** Wrong access codes allowed per student id in 15 minutes. */
  signInAttempts: number;
  /** Hard ceiling on any upload, whatever the exam says. */
  maxFileBytes: number;
  /** Whether the appliance's clock is trusted (no exam opens on an untrusted clock); trusted when absent. */
  clockTrusted?: () => boolean;
  /** Where answer files are checked: worker threads in the appliance; in this thread when absent. */
  answerFileChecker?: AnswerFileChecker;
  /** What the appliance saw of an examinee's device at a passed deadline (presence.ts); unseen when absent. */
  presenceAtDeadline?: (examId: string, studentId: string, deadline: number) => PresenceAtDeadline | undefined;
}

const FIFTEEN_MINUTES = 15 * 60_000;
/**
 * Wrong access codes allowed per network address in 15 minutes, whatever the student ids: one
 * device guessing across the roster is stopped, while a hall behind one NAT address still has
 * room for the typos of many examinees.
 */
export const SIGN_IN_ATTEMPTS_PER_ADDRESS = 100;
/** A verification photo from a phone or laptop camera fits in this. */
export const MAX_PHOTO_BYTES = 5 * 1024 * 1024;

export class ExamDay {
  readonly packages: ExamPackages;
  private readonly tokens: SessionTokens;
  private readonly signInFailures: FailureLimiter;
  private readonly signInAddressFailures: FailureLimiter;
  private readonly examineeLock = new KeyedLock();
  private readonly answerFiles: AnswerFileChecker;
  private readonly integrityLimiter: FailureLimiter;
  private readonly messageLimiter: FailureLimiter;
  private readonly sebRefusals: FailureLimiter;

  constructor(
    readonly store: HallStore,
    private readonly options: ExamDayOptions,
  ) {
    this.packages = new ExamPackages(store.secrets);
    this.answerFiles = options.answerFileChecker ?? inThreadAnswerFileChecker();
    this.tokens = new SessionTokens(Buffer.from(store.secrets.value.sessionKey, 'base64'));
    this.signInFailures = new FailureLimiter(store.clock, options.signInAttempts, FIFTEEN_MINUTES);
    this.signInAddressFailures = new FailureLimiter(store.clock, SIGN_IN_ATTEMPTS_PER_ADDRESS, FIFTEEN_MINUTES);
    this.integrityLimiter = new FailureLimiter(store.clock, 30, 60_000);
    this.messageLimiter = new FailureLimiter(store.clock, 10, 60_000);
    this.sebRefusals = new FailureLimiter(store.clock, 1, 5 * 60_000);
  }

  private get now(): number {
    return this.store.clock.now();
  }

  /** Refuses a client older than the exam's minimum version. */
  checkClientVersion(exam: ExamEntry, clientVersion: string): Result<Record<never, never>> {
    return meetsMinimumVersion(clientVersion, exam.doc.minimumClientVersion)
      ? { ok: true }
      : refuse(
          'client-too-old',
          `this exam needs version ${exam.doc.minimumClientVersion} or newer; yours is ${clientVersion}`,
        );
  }

  /** Signs in with student id + access code from a device. */
  async signIn(input: {
    studentId: string;
    accessCode: string;
    deviceId: string;
    examId?: string | undefined;
    clientVersion: string;
    /** The network address the request came from (rate limit per address). */
    address?: string;
    /** Refuses the exam's device when the exam requires Safe Exam Browser and this is not it. */
    sebCheck?: (exam: ExamEntry) => Refusal | undefined;
  }): Promise<Result<{ token: string; examId: string; status: string; waitingForApproval: boolean }>> {
    const limiterKey = `student:${input.studentId}`;
    const addressKey = input.address === undefined ? undefined : `address:${input.address}`;
    if (this.signInFailures.blocked(limiterKey)) return refuse('too-many-attempts');
    if (addressKey !== undefined && this.signInAddressFailures.blocked(addressKey))
      return refuse('too-many-attempts', 'too many wrong access codes from this device');
    const candidates = this.store.projection
      .examsOf(input.studentId)
      .filter((exam) => input.examId === undefined || exam.doc.examId === input.examId)
      .filter((exam) => {
        const doc = exam.examinees.get(input.studentId)?.doc;
        return (
          doc !== undefined &&
          constantTimeEqualHex(accessCodeHash(exam.doc.examId, input.studentId, input.accessCode), doc.accessCodeHash)
        );
      });
    if (candidates.length === 0) {
      this.signInFailures.fail(limiterKey);
      if (addressKey !== undefined) this.signInAddressFailures.fail(addressKey);
      return refuse('invalid-credentials');
    }
    if (candidates.length > 1) return refuse('exam-choice-required', candidates.map((c) => c.doc.examId).join(', '));
    const exam = candidates[0]!;
    const version = this.checkClientVersion(exam, input.clientVersion);
    if (!version.ok) return version;
    const seb = input.sebCheck?.(exam);
    if (seb) {
      this.recordSebRefused(exam.doc.examId, input.studentId, seb.detail ?? seb.code, '/api/session');
      return seb;
    }
    this.signInFailures.clear(limiterKey);
    const entry = this.store.projection.examinee(exam.doc.examId, input.studentId)!;
    const decision = decideSignIn(entry.state, this.store.projection.timeline(exam, entry), input.deviceId, this.now);
    if (!decision.ok) return decision;
    const examId = exam.doc.examId;
    const actor = { role: 'examinee' as const, studentId: input.studentId };
    let pending = false;
    if (decision.action === 'bind' || decision.action === 'same-device') {
      const sessionNo = decision.action === 'bind' ? entry.state.sessionNo + 1 : entry.state.sessionNo;
      await this.store.record(examId, [
        {
          kind: 'examinee-signed-in',
          actor,
          studentId: input.studentId,
          data: { deviceId: input.deviceId, sessionNo },
        },
      ]).durable;
    } else {
      pending = true;
      if (decision.action === 'relogin-request') {
        await this.store.record(examId, [
          { kind: 'relogin-requested', actor, studentId: input.studentId, data: { deviceId: input.deviceId } },
        ]).durable;
      }
    }
    const token = this.tokens.issue({
      e: examId,
      s: input.studentId,
      d: input.deviceId,
      n: entry.state.sessionNo,
      p: pending ? 1 : 0,
    });
    return { ok: true, token, examId, status: examineeStatus(entry.state), waitingForApproval: pending };
  }

  /**
   * The session behind a bearer token. A pending token (second device) is accepted only where
   * `allowPending` is set (polling the session status).
   */
  session(token: string, allowPending = false): Result<{ session: ExamineeSession }> {
    const claims = this.tokens.read(token);
    if (!claims) return refuse('session-invalid');
    const exam = this.store.projection.exams.get(claims.e);
    const entry = this.store.projection.examinee(claims.e, claims.s);
    if (!exam || !entry) return refuse('session-invalid');
    if (claims.p === 1) {
      if (entry.state.deviceId === claims.d) {
        // A proctor approved the re-login: GET /api/session exchanges the pending token for a
        // real one (approvedToken); anything else waits for that.
        return refuse('session-pending-approval', 'approved: this device continues the exam');
      }
      if (entry.state.pendingDeviceId !== claims.d) return refuse('session-invalid');
      if (!allowPending) return refuse('session-pending-approval');
      return { ok: true, session: { claims, exam, entry } };
    }
    // A proctor moved the session to another device: this one is told so (not "sign in again").
    if (entry.state.deviceId !== claims.d && entry.state.sessionNo > claims.n) return refuse('session-moved');
    if (entry.state.deviceId !== claims.d || entry.state.sessionNo !== claims.n) return refuse('session-invalid');
    return { ok: true, session: { claims, exam, entry } };
  }

  /**
   * A second device's pending token once a proctor approved that device: a real session token
   * for it, so that it continues without a second sign-in. Undefined for any other token (not
   * pending, not approved, or approved and then moved on again).
   */
  approvedToken(token: string): string | undefined {
    const claims = this.tokens.read(token);
    if (!claims || claims.p !== 1) return undefined;
    const entry = this.store.projection.examinee(claims.e, claims.s);
    if (!entry || entry.state.deviceId !== claims.d || entry.state.sessionNo !== claims.n + 1) return undefined;
    return this.tokens.issue({ e: claims.e, s: claims.s, d: claims.d, n: entry.state.sessionNo, p: 0 });
  }

  /** What the examinee's lobby and timer need. */
  examInfo(s: ExamineeSession) {
    const { exam, entry } = s;
    const t = this.store.projection.timeline(exam, entry);
    const now = this.now;
    const submission = activeSubmission(entry.state);
    return {
      exam: {
        examId: exam.doc.examId,
        title: exam.doc.title,
        assessmentType: exam.doc.assessmentType,
        version: exam.doc.version,
        durationMinutes: exam.doc.durationMinutes,
        minimumClientVersion: exam.doc.minimumClientVersion,
        verificationMode: exam.doc.verificationMode,
        settings: {
          lockOnReload: exam.doc.settings.lockOnReload,
          requireFullscreen: exam.doc.settings.requireFullscreen,
        },
      },
      examinee: {
        studentId: entry.doc.studentId,
        name: entry.doc.name,
        seat: entry.doc.seat ?? null,
        accommodationPercent: effectiveAccommodation(entry),
      },
      status: examineeStatus(entry.state),
      schedule: {
        officialStart: iso(t.officialStart),
        deadline: iso(t.deadline),
        lateLoginDeadline: iso(t.lateLoginDeadline),
        downloadWindow: { opens: iso(t.downloadOpens), closes: iso(t.downloadCloses) },
        uploadDeadline: t.uploadDeadline === undefined ? null : iso(t.uploadDeadline),
        submissionCutoff: iso(t.submissionCutoff),
        allowedMinutes: t.allowedMs / 60_000,
      },
      countdown: { serverNow: now, msUntilStart: Math.max(0, t.officialStart - now), msLeft: timeLeftMs(t, now) },
      downloads: {
        used: entry.state.downloads.length,
        max: effectiveMaxDownloads(entry),
        left: Math.max(0, effectiveMaxDownloads(entry) - entry.state.downloads.length),
        first: entry.state.downloads[0] === undefined ? null : iso(entry.state.downloads[0]),
      },
      startedAt: entry.state.startedAt === undefined ? null : iso(entry.state.startedAt),
      submission: submission
        ? {
            submissionId: submission.submissionId,
            sha256: submission.sha256,
            at: iso(submission.at),
            submissionType: submission.submissionType,
          }
        : null,
    };
  }

  /** Downloads the encrypted package; counts the download durably before answering. */
  async download(
    s: ExamineeSession,
  ): Promise<Result<{ pkg: ExamPackage; bytes: Buffer; downloadNo: number; downloadsLeft: number }>> {
    const { exam, entry } = s;
    // Build (or fetch) the package first: it may await, and the limit check below must not.
    const { pkg, bytes } = await this.packages.packageFor(exam.doc);
    const decision = decideDownload(
      entry.state,
      this.store.projection.timeline(exam, entry),
      effectiveMaxDownloads(entry),
      this.now,
    );
    if (!decision.ok) return decision;
    // Synchronous from the check to the record: the projection counts this download at once.
    const { durable } = this.store.record(exam.doc.examId, [
      {
        kind: 'package-downloaded',
        actor: { role: 'examinee', studentId: entry.doc.studentId },
        studentId: entry.doc.studentId,
        data: { downloadNo: decision.downloadNo, packageVersion: exam.doc.version },
      },
    ]);
    await durable;
    return {
      ok: true,
      pkg,
      bytes,
      downloadNo: decision.downloadNo,
      downloadsLeft: Math.max(0, effectiveMaxDownloads(entry) - decision.downloadNo),
    };
  }

  /** Releases the package key at the official start; the first release starts the exam. */
  async releaseKey(s: ExamineeSession): Promise<Result<{ key: string; startedAt: string; deadline: string }>> {
    const { exam, entry } = s;
    const secret = await this.packages.secret(exam.doc.examId);
    const timeline = this.store.projection.timeline(exam, entry);
    const mode = entry.state.verificationMode ?? exam.doc.verificationMode;
    const decision = decideStart(
      entry.state,
      timeline,
      this.now,
      mode !== 'manual',
      this.options.clockTrusted?.() ?? true,
    );
    if (!decision.ok) return decision;
    if (decision.firstStart) {
      await this.store.record(exam.doc.examId, [
        {
          kind: 'exam-started',
          actor: { role: 'examinee', studentId: entry.doc.studentId },
          studentId: entry.doc.studentId,
          data: { via: 'key-released' },
        },
      ]).durable;
    }
    return {
      ok: true,
      key: secret.key,
      startedAt: iso(entry.state.startedAt ?? this.now),
      deadline: iso(timeline.deadline),
    };
  }

  /**
   * The start event for an examinee whose answers arrive although the appliance never released
   * the key to them (they opened the package with the exam password while offline).
   */
  private implicitStart(entry: ExamineeEntry & { doc: ExamineeDoc }): NewEvent[] {
    if (entry.state.startedAt !== undefined) return [];
    const studentId = entry.doc.studentId;
    return [
      { kind: 'exam-started', actor: { role: 'examinee', studentId }, studentId, data: { via: 'exam-password' } },
    ];
  }

  /**
   * Autosaves a draft. A draft no newer than the stored one (by counter) is `stale-draft`; a newer
   * one is merged with the stored one question by question (domain mergeAnswerSheets), so that an
   * older value of a question never overwrites a newer one. The stored draft is read only when
   * it holds a question newer than the incoming draft's (two writers, e.g. a device swap).
   */
  saveDraft(
    s: ExamineeSession,
    input: { counter: number; answers: AnswerFile['answers']; flagged: string[]; versions?: Record<string, number> },
  ): Promise<Result<{ counter: number; answered: number; total: number }>> {
    const { exam, entry } = s;
    return this.examineeLock.run(`${exam.doc.examId}|${entry.doc.studentId}`, async () => {
      const decision = decideDraft(entry.state, this.store.projection.timeline(exam, entry), this.now);
      if (!decision.ok) return decision;
      const stored = entry.draft;
      if (stored && input.counter <= stored.counter)
        return refuse('stale-draft', `stored counter is ${stored.counter}`);
      const ids = { format: 'answers/v1' as const, examId: exam.doc.examId, studentId: entry.doc.studentId };
      // What arrives is checked as it is, before any merge.
      const fit = answersFitExam(
        { ...ids, answers: input.answers, flagged: input.flagged },
        exam.doc,
        entry.doc.studentId,
      );
      if (!fit.ok) return fit;
      const questionIds = new Set(examQuestions(exam.doc).map((q) => q.id));
      const unknown = Object.keys(input.versions ?? {}).find((q) => !questionIds.has(q));
      if (unknown !== undefined)
        return refuse('invalid-answer-file', `versions: "${unknown}" is not a question of this exam`);
      const storedWinsSomewhere =
        stored !== undefined && Object.entries(stored.versions).some(([q, v]) => v > questionVersion(input, q));
      // Without a stored question newer than the incoming one, the incoming value wins everywhere.
      const storedSheet: SheetState = (storedWinsSomewhere ? await this.draft(s) : undefined) ?? {
        counter: stored?.counter ?? 0,
        answers: {},
        flagged: [],
        versions: stored?.versions ?? {},
      };
      const merged = mergeAnswerSheets(input, storedSheet);
      const file: AnswerFile = { ...ids, answers: merged.answers, flagged: merged.flagged };
      const owned = decideAnswerFiles(entry.state, file.answers);
      if (!owned.ok) return owned;
      const canonical = canonicalAnswerFile(file);
      const start = this.implicitStart(entry);
      if (start.length > 0) await this.store.record(exam.doc.examId, start).durable;
      // After the deadline, the draft held at it is kept before this save overwrites it.
      await this.keepTimeUpDraftIfDue(exam, entry);
      await this.store.saveDraft(entry, {
        examId: exam.doc.examId,
        studentId: entry.doc.studentId,
        counter: input.counter,
        savedAt: this.now,
        answers: canonical.answers,
        flagged: canonical.flagged,
        versions: merged.versions,
      });
      const { answered, total } = answeredCount(exam.doc, canonical.answers);
      return { ok: true, counter: input.counter, answered, total };
    });
  }

  /**
   * The appliance side of the app's answer-sheet replication (RxDB's push handler). Each row is
   * the device's sheet and the master state it assumed; the sheet must be the caller's own (all
   * rows are checked before anything is saved). A sheet no newer than the stored one is a
   * conflict: the stored sheet goes back and the device's conflict handler decides.
   */
  async pushAnswerSheets(
    s: ExamineeSession,
    rows: readonly { newDocumentState: AnswerSheet }[],
  ): Promise<Result<{ conflicts: AnswerSheet[] }>> {
    const id = answerSheetId(s.exam.doc.examId, s.entry.doc.studentId);
    for (const row of rows) {
      if (row.newDocumentState.id !== id) return refuse('not-your-document', `this examinee's sheet is ${id}`);
      if (row.newDocumentState._deleted) return refuse('validation-failed', 'an answer sheet cannot be deleted');
    }
    const conflicts: AnswerSheet[] = [];
    for (const { newDocumentState: sheet } of rows) {
      const saved = await this.saveDraft(s, {
        counter: sheet.counter,
        answers: sheet.answers,
        flagged: sheet.flagged,
        ...(sheet.versions ? { versions: sheet.versions } : {}),
      });
      if (saved.ok) continue;
      if (saved.code !== 'stale-draft') return saved;
      const master = await this.answerSheet(s);
      if (master) conflicts.push(master);
    }
    return { ok: true, conflicts };
  }

  /** The stored answer sheet, as the app's replication sees it (RxDB's pull handler). */
  async answerSheet(s: ExamineeSession): Promise<AnswerSheet | undefined> {
    const draft = await this.draft(s);
    if (!draft) return undefined;
    return {
      id: answerSheetId(draft.examId, draft.studentId),
      counter: draft.counter,
      answers: draft.answers,
      flagged: draft.flagged,
      versions: draft.versions ?? {},
      _deleted: false,
    };
  }

  async draft(s: ExamineeSession) {
    return this.store.draft(s.exam.doc.examId, s.entry.doc.studentId);
  }

  /**
   * Keeps the draft held at the examinee's deadline (a timeup-draft document), once the deadline
   * has passed and unless kept already for this deadline. The caller holds the examinee's lock;
   * drafts change only under it and every save after the deadline comes here first, so the
   * stored draft is still the one held at the deadline.
   */
  private async keepTimeUpDraftIfDue(
    exam: ExamEntry,
    entry: ExamineeEntry & { doc: ExamineeDoc },
  ): Promise<TimeUpSeal | undefined> {
    const { deadline } = this.store.projection.timeline(exam, entry);
    if (this.now <= deadline) return undefined;
    if (entry.timeUp?.deadline === deadline) return entry.timeUp;
    const examId = exam.doc.examId;
    const studentId = entry.doc.studentId;
    const draft = await this.store.draft(examId, studentId);
    const presence = this.options.presenceAtDeadline?.(examId, studentId, deadline);
    return this.store.keepTimeUpDraft({
      examId,
      studentId,
      n: (entry.timeUp?.n ?? 0) + 1,
      deadline,
      keptAt: this.now,
      heldDraft: draft !== undefined,
      draftCounter: draft?.counter ?? null,
      draftSavedAt: draft?.savedAt ?? null,
      answers: draft?.answers ?? {},
      flagged: draft?.flagged ?? [],
      presence: presence ? { lastSeen: presence.lastSeen ?? null, streamOpen: presence.streamOpen } : null,
    });
  }

  /** The draft kept at the examinee's deadline (kept now if due); undefined before the deadline. */
  timeUpSeal(exam: ExamEntry, entry: ExamineeEntry & { doc: ExamineeDoc }): Promise<TimeUpSeal | undefined> {
    return this.examineeLock.run(`${exam.doc.examId}|${entry.doc.studentId}`, () =>
      this.keepTimeUpDraftIfDue(exam, entry),
    );
  }

  /**
   * The timing case of a submission arriving now (domain/time-up.ts), reading the received file's
   * answers only when they must be compared with the draft held at the deadline.
   */
  private async decideSubmissionTiming(
    exam: ExamEntry,
    entry: ExamineeEntry & { doc: ExamineeDoc },
    tmpPath: string,
    claimedType: 'manual' | 'automatic',
  ): Promise<{ timing: TimingDecision; seal: TimeUpSeal | undefined }> {
    const timeline = this.store.projection.timeline(exam, entry);
    const arrivedAt = this.now;
    const seal = await this.keepTimeUpDraftIfDue(exam, entry);
    const presence = seal?.presence ?? undefined;
    let submitted: Record<string, string> | undefined;
    if (needsComparison(timeline, arrivedAt, presence)) {
      // Checked already (answer-files/check.ts): valid JSON of an answer file for this exam.
      const file = JSON.parse(await readFile(tmpPath, 'utf8')) as AnswerFile;
      submitted = answerDigests(file.answers);
    }
    const timing = decideTiming({
      timeline,
      arrivedAt,
      claimedType,
      presence,
      submitted,
      draftAtDeadline: seal?.heldDraft ? seal.digests : undefined,
    });
    return { timing, seal };
  }

  /**
   * A submission changed after time-up: the draft held at the deadline is stored as an answer file
   * (a blob, so the sync carries it like the submitted one) and named by a time-up-answers-kept event.
   */
  private async keptAnswersEvent(
    seal: TimeUpSeal,
    submissionId: string,
    submittedSha256: string,
    timing: TimingDecision,
  ): Promise<NewEvent> {
    const kept = await this.store.timeUpDraft(seal.id);
    if (!kept) throw new Error(`${seal.id} is not in the database`);
    const bytes = Buffer.from(
      serialiseAnswerFile({
        format: 'answers/v1',
        examId: kept.examId,
        studentId: kept.studentId,
        answers: kept.answers,
        flagged: kept.flagged,
      }),
      'utf8',
    );
    const sha256 = await this.store.blobs.put(bytes);
    return {
      kind: 'time-up-answers-kept',
      actor: { role: 'system' },
      studentId: kept.studentId,
      data: {
        submissionId,
        timeUpDraftId: seal.id,
        sha256,
        size: bytes.byteLength,
        submittedSha256,
        differingQuestions: timing.differingQuestions,
        unseenMs: timing.unseenMs,
      },
    };
  }

  /**
   * Accepts the final answer file, streamed. Order of durability: blob fsynced and renamed and
   * its folder fsynced, then the event and submission document fsynced in the journal, then the
   * answer (with a signed receipt) goes out.
   */
  submit(
    s: ExamineeSession,
    input: {
      /**
       * The body, taken only once the upload is to be read: a refusal before that leaves the
       * request's stream untouched, so the server discards the rest of it without buffering.
       */
      body: () => UploadBody | null;
      sha256: string;
      submissionType: 'manual' | 'automatic';
    },
  ): Promise<Result<{ receipt: Receipt; replay: boolean }>> {
    const { exam, entry } = s;
    const studentId = entry.doc.studentId;
    const examId = exam.doc.examId;
    // Cheap refusals before reading a byte.
    const early = decideSubmission(entry.state, this.store.projection.timeline(exam, entry), input.sha256, this.now);
    if (!early.ok) return Promise.resolve(early);
    const limit = Math.min(exam.doc.settings.maxAnswerFileBytes, this.options.maxFileBytes);
    return this.examineeLock.run(`${examId}|${studentId}`, async () => {
      const received = await this.receiveUpload(input.body(), limit, undefined);
      if (!received.ok) return received;
      // Hashed and checked on a worker thread in the appliance (answer-files/checker.ts):
      // hashing, reading and parsing the whole file is most of what a submission costs.
      const checked = await this.answerFiles
        .check({ path: received.blob.tmpPath, size: received.blob.size, exam: exam.doc, studentId })
        .catch(async (err: unknown) => {
          await this.store.blobs.discard(received.blob);
          throw err;
        });
      const blob = { ...received.blob, sha256: checked.sha256 };
      const keep = async <T extends Result<object>>(r: T): Promise<T> => {
        if (!r.ok) await this.store.blobs.discard(blob);
        return r;
      };
      if (blob.sha256 !== input.sha256) return keep(refuse('checksum-mismatch', `received ${blob.sha256}`));
      if (!checked.verdict.ok) return keep(checked.verdict);
      const { summary } = checked.verdict;
      const owned = decideAnswerFiles(entry.state, summary.fileAnswers);
      if (!owned.ok) return keep(owned);
      // Decide again under the lock: time has passed and another request may have submitted.
      const decision = decideSubmission(
        entry.state,
        this.store.projection.timeline(exam, entry),
        blob.sha256,
        this.now,
      );
      if (!decision.ok) return keep(decision);
      if (decision.action === 'replay') {
        await this.store.blobs.discard(blob);
        const receipt = this.store.projection.receipts.get(decision.submissionId);
        if (!receipt) return refuse('already-submitted');
        return { ok: true, receipt, replay: true };
      }
      const { timing, seal } = await this.decideSubmissionTiming(exam, entry, blob.tmpPath, input.submissionType);
      await this.store.blobs.commit(blob);
      const submissionId = submissionDocId(examId, studentId, decision.n);
      const receivedAt = this.now;
      const keptEvent =
        timing.case === 'changed-after-time-up' && seal
          ? [await this.keptAnswersEvent(seal, submissionId, blob.sha256, timing)]
          : [];
      const receipt = this.store.receiptSigner.sign({
        format: 'receipt/v2',
        applianceId: this.store.applianceId,
        hallId: this.store.hallId,
        examId,
        studentId,
        submissionId,
        n: decision.n,
        sha256: blob.sha256,
        size: blob.size,
        submissionType: timing.submissionType,
        receivedAt: iso(receivedAt),
        timing: timing.case,
      });
      const doc: SubmissionDoc = {
        _id: submissionId,
        type: 'submission',
        schemaVersion: SCHEMA_VERSION,
        examId,
        studentId,
        n: decision.n,
        applianceId: this.store.applianceId,
        sha256: blob.sha256,
        size: blob.size,
        submissionType: timing.submissionType,
        receivedAt,
        late: timing.late,
        timing: timing.case,
        ...(timing.compared ? { differingQuestions: timing.differingQuestions } : {}),
        receipt,
        score: {
          score: summary.score,
          maxScore: summary.maxScore,
          answered: summary.answered,
          total: summary.total,
        },
      };
      const { durable } = this.store.record(
        examId,
        [
          ...this.implicitStart(entry),
          {
            kind: 'submission-accepted',
            actor: { role: 'examinee', studentId },
            studentId,
            data: {
              submissionId,
              n: decision.n,
              sha256: blob.sha256,
              size: blob.size,
              submissionType: timing.submissionType,
              late: timing.late,
              timing: timing.case,
              ...(timing.compared ? { differingAnswers: timing.differingQuestions.length } : {}),
              ...(timing.compared && timing.unseenMs !== null ? { unseenMs: timing.unseenMs } : {}),
            },
          },
          ...keptEvent,
        ],
        [doc as unknown as SubmissionDoc & { [k: string]: unknown }],
      );
      await durable;
      // Only now may anyone see the receipt (GET /api/exam/submission answers from this map).
      this.store.projection.receipts.set(submissionId, receipt);
      this.store.projection.scores.set(submissionId, doc.score);
      return { ok: true, receipt, replay: false };
    });
  }

  /**
   * Takes a file for a file question, streamed and size-limited, durable before the answer. The
   * answer then names it by SHA-256; only files the examinee uploaded may be named.
   */
  uploadFile(
    s: ExamineeSession,
    input: {
      /**
       * The body, taken only once the upload is to be read: a refusal before that leaves the
       * request's stream untouched, so the server discards the rest of it without buffering.
       */
      body: () => UploadBody | null;
      questionId: string;
      name: string;
      sha256: string;
      declaredSize: number | undefined;
    },
  ): Promise<Result<{ sha256: string; size: number; name: string; replay: boolean }>> {
    const { exam, entry } = s;
    const studentId = entry.doc.studentId;
    const question = examQuestions(exam.doc).find((q) => q.id === input.questionId);
    const timeline = () => this.store.projection.timeline(exam, entry);
    const early = decideFileUpload(
      entry.state,
      timeline(),
      question,
      { name: input.name, sha256: input.sha256, size: input.declaredSize ?? 0 },
      this.now,
    );
    if (!early.ok) return Promise.resolve(early);
    const limit = Math.min(question?.type === 'file' ? question.maxBytes : 0, this.options.maxFileBytes);
    return this.examineeLock.run(`${exam.doc.examId}|${studentId}`, async () => {
      const received = await this.receiveUpload(input.body(), limit, input.sha256);
      if (!received.ok) return received;
      const blob = received.blob;
      const decision = decideFileUpload(
        entry.state,
        timeline(),
        question,
        { name: input.name, sha256: blob.sha256, size: blob.size },
        this.now,
      );
      if (!decision.ok || decision.action === 'replay') {
        await this.store.blobs.discard(blob);
        return decision.ok
          ? { ok: true, sha256: blob.sha256, size: blob.size, name: input.name, replay: true }
          : decision;
      }
      await this.store.blobs.commit(blob);
      await this.store.record(exam.doc.examId, [
        ...this.implicitStart(entry),
        {
          kind: 'file-uploaded',
          actor: { role: 'examinee', studentId },
          studentId,
          data: { questionId: input.questionId, sha256: blob.sha256, size: blob.size, name: input.name },
        },
      ]).durable;
      return { ok: true, sha256: blob.sha256, size: blob.size, name: input.name, replay: false };
    });
  }

  /**
   * Streams an upload to a temp blob, size-limited, and checks it has the announced SHA-256; with
   * `sha256` undefined, it is not hashed here (the caller hashes it: answer files, on the worker).
   */
  private async receiveUpload(
    body: UploadBody | null,
    limit: number,
    sha256: string | undefined,
  ): Promise<Result<{ blob: ReceivedBlob }>> {
    const received = await this.store.blobs.receive(body, limit, { hash: sha256 !== undefined });
    if (!received.ok) {
      return refuse(
        received.code,
        received.code === 'payload-too-large' ? `at most ${limit} bytes` : 'the upload was interrupted',
      );
    }
    if (sha256 !== undefined && received.blob.sha256 !== sha256) {
      await this.store.blobs.discard(received.blob);
      return refuse('checksum-mismatch', `received ${received.blob.sha256}`);
    }
    return { ok: true, blob: received.blob };
  }

  /**
   * Records that Safe Exam Browser checks refused an examinee's request, at most once per
   * examinee and reason in 5 minutes (a normal browser polling would otherwise flood the log).
   */
  recordSebRefused(examId: string, studentId: string, reason: string, path: string): void {
    const key = `${examId}|${studentId}|${reason}`;
    if (this.sebRefusals.blocked(key)) return;
    this.sebRefusals.fail(key);
    void this.store
      .record(examId, [
        { kind: 'seb-refused', actor: { role: 'examinee', studentId }, studentId, data: { reason, path } },
      ])
      .durable.catch(() => undefined);
  }

  private examineeEvent<K extends keyof EventData>(s: ExamineeSession, kind: K, data: EventData[K]): Promise<void> {
    const studentId = s.entry.doc.studentId;
    return this.store.record(s.exam.doc.examId, [
      { kind, actor: { role: 'examinee', studentId }, studentId, data } as NewEvent,
    ]).durable;
  }

  /** The examinee asks for a bathroom break; proctors approve, reject or answer later. */
  async requestBathroomBreak(s: ExamineeSession): Promise<Result<{ status: string }>> {
    const open = decideDraft(s.entry.state, this.store.projection.timeline(s.exam, s.entry), this.now);
    if (!open.ok) return open;
    if (s.entry.state.bathroom.status === 'requested') return { ok: true, status: 'requested' };
    await this.examineeEvent(s, 'bathroom-break-requested', {});
    return { ok: true, status: 'requested' };
  }

  /** The examinee is back from an approved break. */
  async returnFromBathroomBreak(s: ExamineeSession): Promise<Result<{ status: string }>> {
    if (s.entry.state.bathroom.status !== 'approved') return refuse('no-bathroom-request');
    await this.examineeEvent(s, 'bathroom-break-returned', {});
    return { ok: true, status: 'returned' };
  }

  /**
   * An integrity event from the examinee's device (tab hidden, full screen left, paste...). At
   * most 30 a minute are kept per examinee, so a broken or hostile client cannot flood the log.
   */
  async reportIntegrity(
    s: ExamineeSession,
    input: { type: IntegrityEventType; detail?: string | undefined },
  ): Promise<Result<Record<never, never>>> {
    const key = `${s.exam.doc.examId}|${s.entry.doc.studentId}`;
    if (this.integrityLimiter.blocked(key)) return refuse('too-many-events');
    this.integrityLimiter.fail(key);
    await this.examineeEvent(
      s,
      'integrity-event',
      input.detail === undefined ? { type: input.type } : { type: input.type, detail: input.detail },
    );
    return { ok: true };
  }

  /** A question from the examinee to the proctors (optionally about one exam question). */
  async askProctors(
    s: ExamineeSession,
    input: { text: string; questionId?: string | undefined },
  ): Promise<Result<{ messageId: string }>> {
    const key = `${s.exam.doc.examId}|${s.entry.doc.studentId}`;
    if (this.messageLimiter.blocked(key)) return refuse('too-many-events');
    this.messageLimiter.fail(key);
    if (input.questionId !== undefined && !examQuestions(s.exam.doc).some((q) => q.id === input.questionId)) {
      return refuse('validation-failed', 'questionId is not a question of this exam');
    }
    const messageId = randomUUID();
    await this.examineeEvent(s, 'message-sent', {
      messageId,
      audience: 'proctors',
      text: input.text,
      ...(input.questionId === undefined ? {} : { questionId: input.questionId }),
    });
    return { ok: true, messageId };
  }

  /** Password verification: the examinee types a password the invigilator handed out. */
  async verifyWithPassword(s: ExamineeSession, password: string): Promise<Result<{ verification: string }>> {
    const mode = s.entry.state.verificationMode ?? s.exam.doc.verificationMode;
    if (mode !== 'password') return refuse('verification-not-needed');
    if (s.entry.state.verification === 'verified') return { ok: true, verification: 'verified' };
    const key = `${s.exam.doc.examId}|${s.entry.doc.studentId}`;
    if (this.signInFailures.blocked(`verification:${key}`)) return refuse('too-many-attempts');
    const typed = normaliseAccessCode(password);
    const known = this.store.secrets.examSecret(s.exam.doc.examId)?.verificationPasswords ?? [];
    const correct = known.some((p) => p === typed);
    if (!correct) this.signInFailures.fail(`verification:${key}`);
    await this.examineeEvent(s, 'verification-password-entered', { correct });
    return correct ? { ok: true, verification: 'verified' } : refuse('wrong-verification-password');
  }

  /** Camera verification: a photo of the face or the ID card, streamed; a proctor reviews it. */
  async submitVerificationPhoto(
    s: ExamineeSession,
    input: {
      /**
       * The body, taken only once the upload is to be read: a refusal before that leaves the
       * request's stream untouched, so the server discards the rest of it without buffering.
       */
      body: () => UploadBody | null;
      kind: 'face' | 'id-card';
      sha256: string;
    },
  ): Promise<Result<{ sha256: string; size: number }>> {
    const mode = s.entry.state.verificationMode ?? s.exam.doc.verificationMode;
    if (mode !== 'camera') return refuse('verification-not-needed');
    if (s.entry.state.verification === 'verified' || s.entry.state.verification === 'rejected')
      return refuse('verification-not-needed', `already ${s.entry.state.verification}`);
    if (s.entry.state.verificationPhotos.length >= 20) return refuse('too-many-events');
    const limit = Math.min(MAX_PHOTO_BYTES, this.options.maxFileBytes);
    return this.examineeLock.run(`${s.exam.doc.examId}|${s.entry.doc.studentId}`, async () => {
      const received = await this.receiveUpload(input.body(), limit, input.sha256);
      if (!received.ok) return received;
      await this.store.blobs.commit(received.blob);
      await this.examineeEvent(s, 'verification-photo-submitted', {
        sha256: received.blob.sha256,
        size: received.blob.size,
        kind: input.kind,
      });
      return { ok: true, sha256: received.blob.sha256, size: received.blob.size };
    });
  }

  /** The examinee's accepted submission with its receipt and closed-question score. */
  async currentSubmission(s: ExamineeSession) {
    const current = activeSubmission(s.entry.state);
    const receipt = current && this.store.projection.receipts.get(current.submissionId);
    // A submission whose journal write is still in flight has no receipt yet: not acknowledged.
    if (!current || !receipt) return undefined;
    return {
      submissionId: current.submissionId,
      sha256: current.sha256,
      size: current.size,
      at: iso(current.at),
      submissionType: current.submissionType,
      receipt,
    };
  }

  /** Scores closed questions of a stored answer file (for proctors; never sent to examinees). */
  async closedScore(examId: string, sha256: string) {
    const exam = this.store.projection.exams.get(examId);
    if (!exam) return undefined;
    const file = JSON.parse((await this.store.blobs.read(sha256)).toString('utf8')) as AnswerFile;
    return gradeClosedQuestions(exam.doc, file.answers);
  }
}

const iso = (ms: number) => new Date(ms).toISOString();
