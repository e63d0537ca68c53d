/**
 * Which of an examinee's submissions counts, and why (the `counts` and `reason` columns of
 * collect's submissions.csv). Pure: the caller reads the documents and events.
 *
 * The rule (docs/sync.md, "Which submission counts"):
 * 1. A submission removed by a proctor (a `submission-removed` event naming its id) does not
 *    count, nor one whose id does not match its fields.
 * 2. On each box, the remaining submission with the highest number `n` is that box's latest: a
 *    box numbers its own submissions in order, whatever its clock did in between.
 * 3. Across boxes, the box-latest accepted last by `receivedAt` counts (equal times: the higher
 *    `n`, then the greater appliance id). Those are two clocks: when the times are less than a
 *    minute apart, or when either box's clock is known not to have been trusted, the reason says
 *    so, and the hall should confirm which was really last.
 */

import { laterAccepted, laterOnBox as laterOnBoxRule } from '../../../domain/examinee-state.js';

/** What the rule needs of a submission document. */
export interface SubmissionVersion {
  id: string;
  applianceId: string;
  n: number;
  /** The accepting box's clock, epoch ms. */
  receivedAt: number;
}

export interface Removal {
  /** The proctor, when the event names one. */
  by?: string;
  applianceId: string;
  at: number;
  reason?: string;
}

export interface Verdict {
  counts: boolean;
  reason: string;
}

export interface CountingContext {
  removals: ReadonlyMap<string, Removal>;
  /** Why a submission cannot count although not removed (e.g. its id does not match its fields). */
  invalid?: ReadonlyMap<string, string>;
  /** What is known of the accepting box's clock for a submission (e.g. it was set by a proctor later). */
  clockNotes?: ReadonlyMap<string, string>;
}

/** Two boxes' clocks this close cannot be trusted to order two submissions. */
export const CLOCKS_AGREE_WITHIN_MS = 60_000;

/** ISO 8601 in UTC, without the milliseconds when they are zero. */
export const isoTime = (ms: number) =>
  Number.isFinite(ms) ? new Date(ms).toISOString().replace('.000Z', 'Z') : 'an unknown time';

/** A duration in words: 850 ms, 37 s, 2 min 10 s, 3 h 5 min. */
export function duration(ms: number): string {
  const a = Math.abs(Math.round(ms));
  if (a < 1_000) return `${a} ms`;
  const s = Math.round(a / 1_000);
  if (s < 60) return `${s} s`;
  if (s < 3_600) return s % 60 === 0 ? `${s / 60} min` : `${Math.floor(s / 60)} min ${s % 60} s`;
  const m = Math.round(s / 60);
  return m % 60 === 0 ? `${m / 60} h` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

const label = (v: SubmissionVersion) => `${v.applianceId}'s submission ${v.n}`;

const countable = (v: SubmissionVersion) => ({
  submissionId: v.id,
  applianceId: v.applianceId,
  n: v.n,
  at: v.receivedAt,
});

/** Later first: receivedAt, then n, then appliance id, then id (the boxes' own rule, domain/examinee-state.ts). */
const later = (a: SubmissionVersion, b: SubmissionVersion) => laterAccepted(countable(a), countable(b));

/** The latest on one box: highest n, then receivedAt, then id. */
const laterOnBox = (a: SubmissionVersion, b: SubmissionVersion) => laterOnBoxRule(countable(a), countable(b));

/**
 * Decides for every version of one examinee's submissions (one exam) whether it counts and why.
 * At most one counts; none when all are removed.
 */
export function decideCounting(versions: readonly SubmissionVersion[], context: CountingContext): Map<string, Verdict> {
  const verdicts = new Map<string, Verdict>();
  const notes = (v: SubmissionVersion) => {
    const note = context.clockNotes?.get(v.id);
    return note === undefined ? '' : `; ${note}`;
  };
  const candidates: SubmissionVersion[] = [];
  for (const v of versions) {
    const removal = context.removals.get(v.id);
    const invalid = context.invalid?.get(v.id);
    if (invalid !== undefined) verdicts.set(v.id, { counts: false, reason: `not counted: ${invalid}` });
    else if (removal) verdicts.set(v.id, { counts: false, reason: removedReason(removal) });
    else candidates.push(v);
  }
  const boxLatest = new Map<string, SubmissionVersion>();
  for (const v of [...candidates].sort(laterOnBox)) if (!boxLatest.has(v.applianceId)) boxLatest.set(v.applianceId, v);
  const finalists = [...boxLatest.values()].sort(later);
  const winner = finalists[0];
  if (!winner) return verdicts;

  for (const v of candidates) {
    if (v === winner) continue;
    const best = boxLatest.get(v.applianceId);
    if (best && best !== v) {
      const setBack =
        best.receivedAt < v.receivedAt ? ', although its clock read earlier: it was set back in between' : '';
      verdicts.set(v.id, {
        counts: false,
        reason: `superseded by the same box's later submission ${best.n} (${isoTime(best.receivedAt)}${setBack})`,
      });
      continue;
    }
    const gap = winner.receivedAt - v.receivedAt;
    const how =
      gap === 0
        ? `accepted at the same time by the boxes' clocks; the tie goes to ${label(winner)}`
        : `${duration(gap)} later by the boxes' clocks`;
    verdicts.set(v.id, {
      counts: false,
      reason:
        `superseded by ${label(winner)} at ${isoTime(winner.receivedAt)} (${how})` +
        closeCall(gap) +
        notes(v) +
        notes(winner),
    });
  }

  const runnerUp = finalists[1];
  let reason =
    candidates.length === 1
      ? `the only submission (${winner.applianceId}, accepted ${isoTime(winner.receivedAt)})`
      : `latest accepted (${winner.applianceId}, ${isoTime(winner.receivedAt)})`;
  if (runnerUp) {
    const gap = winner.receivedAt - runnerUp.receivedAt;
    reason +=
      gap === 0
        ? `; ${label(runnerUp)} was accepted at the same time by the boxes' clocks (tie broken by submission number, then appliance id)`
        : `; ${label(runnerUp)} was ${duration(gap)} earlier by the boxes' clocks`;
    reason += closeCall(gap) + notes(winner) + notes(runnerUp);
  } else reason += notes(winner);
  verdicts.set(winner.id, { counts: true, reason });
  return verdicts;
}

function closeCall(gap: number): string {
  return Math.abs(gap) < CLOCKS_AGREE_WITHIN_MS
    ? ': within a minute, which two box clocks may differ by, so confirm with the hall which was last'
    : '';
}

function removedReason(r: Removal): string {
  const who = r.by === undefined ? 'a proctor' : `proctor ${r.by}`;
  const why = r.reason === undefined || r.reason === '' ? '' : `: ${JSON.stringify(r.reason)}`;
  return `removed by ${who} on ${r.applianceId} at ${isoTime(r.at)}${why}`;
}
