/**
 * What the parts of the exam day share (sign-in, lobby, answers, submissions, requests): the
 * store and the clock, the session behind a token, the examinee's lock, examinee events and
 * streamed uploads. Each part takes one ExamDayContext; none of them holds state of its own
 * that another part needs.
 */
import type { ExamineeTimeline } from '../../../domain/exam-clock.js';
import { refuse, type Result } from '../../../domain/errors.js';
import type { ExamineeDoc } from '../../../domain/exam-format.js';
import type { EventData, NewEvent } from '../../../domain/events.js';
import type { PresenceAtDeadline } from '../../../domain/time-up.js';
import { meetsMinimumVersion } from '../../../domain/version.js';
import type { AnswerFileChecker } from '../answer-files/checker.js';
import { SessionTokens, type SessionClaims } from '../crypto/session-token.js';
import type { SignInGuard } from '../sign-in-guard.js';
import { KeyedLock } from '../keyed-lock.js';
import type { ReceivedBlob, UploadBody } from '../store/blob-store.js';
import type { HallStore } from '../store/hall-store.js';
import type { ExamEntry, ExamineeEntry } from '../store/projection.js';

/** An examinee on the roster, as the projection holds them. */
export type RosterEntry = ExamineeEntry & { doc: ExamineeDoc };

/** An authenticated examinee request's context. */
export interface ExamineeSession {
  claims: SessionClaims;
  exam: ExamEntry;
  entry: RosterEntry;
}

/**
 * A streamed request body, taken only once the upload is to be read: a refusal before that leaves
 * the request's stream untouched, so the server discards the rest of it without buffering.
 */
export type LazyBody = () => UploadBody | null;

export interface ExamDayOptions {
  /** Wrong verification passwords allowed per examinee in 15 minutes. */
  signInAttempts: number;
  /** Limits on access codes (sign-in-guard.ts): per address, per (student id, address), a delay per id. */
  signInGuard: SignInGuard;
  /** Hard ceiling on any upload, whatever the exam says. */
  maxFileBytes: number;
  /** Whether the appliance's clock is trusted (no exam opens on an untrusted clock); trusted when absent. */
  clockTrusted?: () => boolean;
  /** Where answer files are checked: worker threads in the appliance; in this thread when absent. */
  answerFileChecker?: AnswerFileChecker;
  /** What the appliance saw of an examinee's device at a passed deadline (presence.ts); unseen when absent. */
  presenceAtDeadline?: (examId: string, studentId: string, deadline: number) => PresenceAtDeadline | undefined;
}

export const iso = (ms: number) => new Date(ms).toISOString();

/** How long after the examinee's upload window their session still answers (with refusals). */
export const SESSION_AFTER_CUTOFF_MS = 60 * 60_000;

export class ExamDayContext {
  readonly tokens: SessionTokens;
  private readonly examineeLock = new KeyedLock();

  constructor(
    readonly store: HallStore,
    readonly options: ExamDayOptions,
  ) {
    this.tokens = new SessionTokens(Buffer.from(store.secrets.value.sessionKey, 'base64'));
  }

  get now(): number {
    return this.store.clock.now();
  }

  timeline(exam: ExamEntry, entry: RosterEntry): ExamineeTimeline {
    return this.store.projection.timeline(exam, entry);
  }

  /** Runs a task after the examinee's earlier ones: their drafts, uploads and submissions never interleave. */
  underExamineeLock<T>(exam: ExamEntry, entry: RosterEntry, task: () => Promise<T>): Promise<T> {
    return this.examineeLock.run(`${exam.doc.examId}|${entry.doc.studentId}`, task);
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
    // A session ends with the exam's upload window (the examinee's own cutoff, extensions
    // included), an hour on: until then a device that comes late is told precisely why nothing
    // more is taken ("the upload deadline has passed"); after it a token found on a device
    // opens nothing (the device keeps its receipt).
    if (this.now > this.timeline(exam, entry).submissionCutoff + SESSION_AFTER_CUTOFF_MS)
      return refuse('session-expired', 'the exam’s upload window has closed');
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

  /** Records one event of the examinee's own, durably. */
  examineeEvent<K extends keyof EventData>(s: ExamineeSession, kind: K, data: EventData[K]): Promise<void> {
    const studentId = s.entry.doc.studentId;
    return this.store.record(s.exam.doc.examId, [
      { kind, actor: { role: 'examinee', studentId }, studentId, data } as NewEvent,
    ]).durable;
  }

  /**
   * The start event for an examinee whose answers arrive although the appliance never released
   * the key to them (they opened the package with the exam password while offline).
   */
  implicitStart(entry: RosterEntry): NewEvent[] {
    if (entry.state.startedAt !== undefined) return [];
    const studentId = entry.doc.studentId;
    return [
      { kind: 'exam-started', actor: { role: 'examinee', studentId }, studentId, data: { via: 'exam-password' } },
    ];
  }

  /**
   * Streams an upload to a temp blob, size-limited, and checks it has the announced SHA-256; with
   * `sha256` undefined, it is not hashed here (the caller hashes it: answer files, on the worker).
   */
  async receiveUpload(
    body: UploadBody | null,
    limit: number,
    sha256: string | undefined,
  ): Promise<Result<{ blob: ReceivedBlob }>> {
    const received = await this.store.blobs.receive(body, limit, { hash: sha256 !== undefined });
    if (!received.ok) {
      return refuse(
        received.code,
        received.code === 'payload-too-large'
          ? `at most ${limit} bytes`
          : received.code === 'upload-too-slow'
            ? 'the upload arrived too slowly'
            : 'the upload was interrupted',
      );
    }
    if (sha256 !== undefined && received.blob.sha256 !== sha256) {
      await this.store.blobs.discard(received.blob);
      return refuse('checksum-mismatch', `received ${received.blob.sha256}`);
    }
    return { ok: true, blob: received.blob };
  }
}
