/**
 * Time-up: is a submission that arrives around the examinee's deadline on time, and which case is
 * it? Pure rules; the appliance supplies what it saw (presence, the draft it held at the deadline).
 *
 * Spec. D = the examinee's deadline, G = D + the exam's `submissionGraceSeconds`, A = the time the
 * submission reached the appliance.
 * - The device was *connected at D* when the appliance heard a request from it in [D − 10 s, D]
 *   (CONNECTED_WINDOW_MS) or its event stream was open at D. Unknown (e.g. the appliance restarted
 *   between D and the arrival) counts as unseen.
 * - The client's claim "automatic" counts only when A ≥ D − 10 s; before that it is a manual hand-in.
 * - A ≤ D: `sealed-at-time-up` when automatic, else `on-time`.
 * - A > D from a device connected at D, A ≤ G: `sealed-at-time-up` (on time: network slack).
 * - Otherwise the submitted answers are compared, question by question, with the last autosave the
 *   appliance held from the device at D (none: no answers):
 *   - equal: `sealed-offline` (on time: nothing changed after time-up);
 *   - different, device unseen at D: `changed-after-time-up`: accepted and kept, flagged with how
 *     many answers differ and how long the device was unseen (last request before D to A), for a
 *     chief proctor to decide which version counts;
 *   - different, device connected at D (so A > G): `late`.
 * Nothing is accepted silently or refused silently: each case is recorded and on the receipt.
 */
import { canonicalJson, sha256HexOfText, type Json } from './canonical.js';
import type { AnswerFile } from './answers.js';
import { isEmptyAnswer } from './answer-sheet.js';
import type { ExamineeTimeline } from './exam-clock.js';

/** How a submission stands against the examinee's time. */
export const TIMING_CASES = [
  'on-time',
  'sealed-at-time-up',
  'sealed-offline',
  'changed-after-time-up',
  'late',
] as const;
export type TimingCase = (typeof TIMING_CASES)[number];

/** A request this long before the deadline (or later) means the device was connected at it. */
export const CONNECTED_WINDOW_MS = 10_000;

/** What the chief proctor may decide for a submission changed after time-up. */
export const TIME_UP_CHOICES = ['submitted-file', 'answers-at-time-up'] as const;
export type TimeUpChoice = (typeof TIME_UP_CHOICES)[number];

/** What the appliance saw of the device at the deadline. */
export interface PresenceAtDeadline {
  /** The last request heard from the device at or before the deadline (epoch ms), if any. */
  lastSeen: number | undefined;
  /** Whether its event stream was open at the deadline. */
  streamOpen: boolean;
}

/** Each answered question's SHA-256 of its canonical value: enough to tell which answers differ. */
export type AnswerDigests = Record<string, string>;

/** The digests of answers (blank answers count as none, strings NFC, choice lists as sets). */
export function answerDigests(answers: AnswerFile['answers']): AnswerDigests {
  const out: AnswerDigests = {};
  for (const [questionId, value] of Object.entries(answers)) {
    if (isEmptyAnswer(value)) continue;
    const canonical =
      typeof value === 'string'
        ? value.normalize('NFC')
        : Array.isArray(value) && value.every((v) => typeof v === 'string')
          ? [...new Set(value as string[])].sort()
          : value;
    out[questionId] = sha256HexOfText(canonicalJson(canonical as Json));
  }
  return out;
}

/** The questions whose answers differ between two versions (one answered and the other not counts), sorted. */
export function differingQuestions(a: AnswerDigests, b: AnswerDigests): string[] {
  const ids = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...ids].filter((q) => a[q] !== b[q]).sort();
}

/** Was the device connected at the deadline? */
export function connectedAtDeadline(presence: PresenceAtDeadline | undefined, deadline: number): boolean {
  if (!presence) return false;
  if (presence.streamOpen) return true;
  return (
    presence.lastSeen !== undefined &&
    presence.lastSeen <= deadline &&
    presence.lastSeen >= deadline - CONNECTED_WINDOW_MS
  );
}

/** The client's claim, as it counts: "automatic" only from D − 10 s. */
export function effectiveSubmissionType(
  claimed: 'manual' | 'automatic',
  deadline: number,
  arrivedAt: number,
): 'manual' | 'automatic' {
  return claimed === 'automatic' && arrivedAt >= deadline - CONNECTED_WINDOW_MS ? 'automatic' : 'manual';
}

/** Whether the case needs the submitted answers compared with the draft held at the deadline. */
export function needsComparison(
  timeline: Pick<ExamineeTimeline, 'deadline' | 'graceEnd'>,
  arrivedAt: number,
  presence: PresenceAtDeadline | undefined,
): boolean {
  if (arrivedAt <= timeline.deadline) return false;
  return !(connectedAtDeadline(presence, timeline.deadline) && arrivedAt <= timeline.graceEnd);
}

export interface TimingInput {
  timeline: Pick<ExamineeTimeline, 'deadline' | 'graceEnd'>;
  arrivedAt: number;
  claimedType: 'manual' | 'automatic';
  presence: PresenceAtDeadline | undefined;
  /** Digests of the submitted answers (needed only when needsComparison says so). */
  submitted: AnswerDigests | undefined;
  /** Digests of the draft the appliance held at the deadline; undefined: it held none. */
  draftAtDeadline: AnswerDigests | undefined;
}

export interface TimingDecision {
  case: TimingCase;
  late: boolean;
  submissionType: 'manual' | 'automatic';
  connectedAtDeadline: boolean;
  /** Whether the answers were compared with the draft held at the deadline. */
  compared: boolean;
  /** The questions whose answers differ from the draft held at the deadline (empty when not compared). */
  differingQuestions: string[];
  /** From the device's last request before the deadline to the arrival; null when never seen or not compared. */
  unseenMs: number | null;
}

/** Which timing case a submission is (see the spec above). */
export function decideTiming(input: TimingInput): TimingDecision {
  const { timeline, arrivedAt, presence } = input;
  const submissionType = effectiveSubmissionType(input.claimedType, timeline.deadline, arrivedAt);
  const connected = connectedAtDeadline(presence, timeline.deadline);
  const base = {
    submissionType,
    connectedAtDeadline: connected,
    compared: false,
    differingQuestions: [],
    unseenMs: null,
  };
  if (arrivedAt <= timeline.deadline) {
    return { ...base, case: submissionType === 'automatic' ? 'sealed-at-time-up' : 'on-time', late: false };
  }
  if (!needsComparison(timeline, arrivedAt, presence)) return { ...base, case: 'sealed-at-time-up', late: false };
  const differing = differingQuestions(input.submitted ?? {}, input.draftAtDeadline ?? {});
  const unseenMs = presence?.lastSeen === undefined ? null : Math.max(0, arrivedAt - presence.lastSeen);
  const compared = { ...base, compared: true, differingQuestions: differing, unseenMs };
  if (differing.length === 0) return { ...compared, case: 'sealed-offline', late: false };
  if (!connected) return { ...compared, case: 'changed-after-time-up', late: false };
  return { ...compared, case: 'late', late: true };
}

/** Plain words for a case (English; the client has its own strings). */
export const TIMING_CASE_TEXT: Record<TimingCase, string> = {
  'on-time': 'On time',
  'sealed-at-time-up': 'Sealed at time-up',
  'sealed-offline': 'Sealed at time-up while offline',
  'changed-after-time-up': 'Changed after time-up',
  late: 'Late',
};
