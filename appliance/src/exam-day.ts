/**
 * The examinee's exam day on this appliance: sign-in, exam info, download, key release,
 * autosave and submission. Pure rules come from domain/; this layer reads the projection,
 * records events durably and returns values (refusals carry the shared error codes).
 *
 * ExamDay is the one face the HTTP layer sees; the work is in exam-day/: sign-in.ts (sign-in,
 * the approved second device, SEB refusals, identity verification), lobby.ts (exam info,
 * package download, key release), answers.ts (drafts, answer sheets, file uploads),
 * submissions.ts (the final answer file and its receipt), time-up.ts (the draft kept at the
 * deadline, a late submission's case), requests.ts (breaks, integrity events, questions),
 * snapshots.ts (proctoring snapshots), all on
 * the shared context.ts (the session behind a token, the examinee's lock, uploads).
 */
import type { AnswerSheet } from '../../domain/answer-sheet.js';
import { ExamDayContext, type ExamDayOptions, type ExamineeSession, type RosterEntry } from './exam-day/context.js';
import { Answers } from './exam-day/answers.js';
import { Lobby } from './exam-day/lobby.js';
import { Requests } from './exam-day/requests.js';
import { SignIn, type SignInInput } from './exam-day/sign-in.js';
import { Snapshots } from './exam-day/snapshots.js';
import { Submissions } from './exam-day/submissions.js';
import { TimeUp } from './exam-day/time-up.js';
import { ExamPackages } from './exam-packages.js';
import type { HallStore } from './store/hall-store.js';
import type { ExamEntry } from './store/projection.js';

export type { ExamDayOptions, ExamineeSession } from './exam-day/context.js';
export { MAX_PHOTO_BYTES } from './exam-day/sign-in.js';

export class ExamDay {
  readonly packages: ExamPackages;
  private readonly ctx: ExamDayContext;
  private readonly signIns: SignIn;
  private readonly lobby: Lobby;
  private readonly answers: Answers;
  private readonly timeUp: TimeUp;
  private readonly submissions: Submissions;
  private readonly requests: Requests;
  private readonly snapshots: Snapshots;

  constructor(
    readonly store: HallStore,
    options: ExamDayOptions,
  ) {
    this.packages = new ExamPackages(store.secrets);
    this.ctx = new ExamDayContext(store, options);
    this.signIns = new SignIn(this.ctx);
    this.lobby = new Lobby(this.ctx, this.packages);
    this.timeUp = new TimeUp(this.ctx);
    this.answers = new Answers(this.ctx, this.timeUp);
    this.submissions = new Submissions(this.ctx, this.timeUp);
    this.requests = new Requests(this.ctx);
    this.snapshots = new Snapshots(this.ctx);
  }

  // ---- Sessions and sign-in (exam-day/context.ts, exam-day/sign-in.ts) ----

  checkClientVersion(exam: ExamEntry, clientVersion: string) {
    return this.ctx.checkClientVersion(exam, clientVersion);
  }

  signIn(input: SignInInput) {
    return this.signIns.signIn(input);
  }

  session(token: string, allowPending = false) {
    return this.ctx.session(token, allowPending);
  }

  approvedToken(token: string) {
    return this.signIns.approvedToken(token);
  }

  recordSebRefused(examId: string, studentId: string, reason: string, path: string) {
    this.signIns.recordSebRefused(examId, studentId, reason, path);
  }

  verifyWithPassword(s: ExamineeSession, password: string) {
    return this.signIns.verifyWithPassword(s, password);
  }

  submitVerificationPhoto(s: ExamineeSession, input: Parameters<SignIn['submitVerificationPhoto']>[1]) {
    return this.signIns.submitVerificationPhoto(s, input);
  }

  // ---- Lobby (exam-day/lobby.ts) ----

  /** GET /api/exam: the lobby's exam info and the proctoring the device is to do. */
  examInfo(s: ExamineeSession) {
    return { ...this.lobby.examInfo(s), proctoring: this.snapshots.proctoring(s) };
  }

  download(s: ExamineeSession) {
    return this.lobby.download(s);
  }

  releaseKey(s: ExamineeSession) {
    return this.lobby.releaseKey(s);
  }

  // ---- Answers, time-up and submissions (exam-day/answers.ts, time-up.ts, submissions.ts) ----

  saveDraft(s: ExamineeSession, input: Parameters<Answers['saveDraft']>[1]) {
    return this.answers.saveDraft(s, input);
  }

  pushAnswerSheets(s: ExamineeSession, rows: readonly { newDocumentState: AnswerSheet }[]) {
    return this.answers.pushAnswerSheets(s, rows);
  }

  answerSheet(s: ExamineeSession) {
    return this.answers.answerSheet(s);
  }

  draft(s: ExamineeSession) {
    return this.answers.draft(s);
  }

  uploadFile(s: ExamineeSession, input: Parameters<Answers['uploadFile']>[1]) {
    return this.answers.uploadFile(s, input);
  }

  timeUpSeal(exam: ExamEntry, entry: RosterEntry) {
    return this.timeUp.seal(exam, entry);
  }

  submit(s: ExamineeSession, input: Parameters<Submissions['submit']>[1]) {
    return this.submissions.submit(s, input);
  }

  currentSubmission(s: ExamineeSession) {
    return this.submissions.currentSubmission(s);
  }

  closedScore(examId: string, sha256: string) {
    return this.submissions.closedScore(examId, sha256);
  }

  // ---- Examinee requests (exam-day/requests.ts) ----

  requestBathroomBreak(s: ExamineeSession) {
    return this.requests.requestBathroomBreak(s);
  }

  returnFromBathroomBreak(s: ExamineeSession) {
    return this.requests.returnFromBathroomBreak(s);
  }

  reportIntegrity(s: ExamineeSession, input: Parameters<Requests['reportIntegrity']>[1]) {
    return this.requests.reportIntegrity(s, input);
  }

  reportLock(s: ExamineeSession, reason: Parameters<Requests['reportLock']>[1]) {
    return this.requests.reportLock(s, reason);
  }

  // ---- Proctoring snapshots (exam-day/snapshots.ts) ----

  proctoring(s: ExamineeSession) {
    return this.snapshots.proctoring(s);
  }

  takeSnapshot(s: ExamineeSession, input: Parameters<Snapshots['take']>[1]) {
    return this.snapshots.take(s, input);
  }

  reportSnapshotProblem(s: ExamineeSession, input: Parameters<Snapshots['reportProblem']>[1]) {
    return this.snapshots.reportProblem(s, input);
  }

  askProctors(s: ExamineeSession, input: Parameters<Requests['askProctors']>[1]) {
    return this.requests.askProctors(s, input);
  }
}
