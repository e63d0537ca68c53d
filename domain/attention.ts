/**
 * What needs a proctor's attention, as a pure function of the participants' rows (the monitor's
 * live state) and the examinees' unanswered questions: one entry per examinee and kind, oldest
 * first, until someone acts. Acting changes the row (a decision, a review, a verification), so the
 * entry goes on the next call.
 *
 * `since` is the row's own time where it has one (bathroomSince, uploadedAt, a question's time);
 * otherwise the time the entry was first seen, carried over from the previous list, so an entry
 * keeps its place in the queue while it waits.
 */
import type { MessageAudience } from './events.js';
import { snapshotSources } from './exam-options.js';
import type { ParticipantRow } from './monitor.js';

export const ATTENTION_KINDS = [
  'question',
  'bathroom',
  'relogin',
  'verification-photo',
  'changed-after-time-up',
  'integrity',
  'snapshots',
] as const;
/** Why an examinee needs a proctor. */
export type AttentionKind = (typeof ATTENTION_KINDS)[number];

/** One thing waiting for a proctor. */
export interface AttentionItem {
  studentId: string;
  name: string;
  kind: AttentionKind;
  /** Epoch ms since when it waits. */
  since: number;
}

/** An examinee's question no proctor has answered yet. */
export interface OpenQuestion {
  studentId: string;
  /** Epoch ms of the question. */
  at: number;
}

type AttentionRow = Pick<
  ParticipantRow,
  | 'studentId'
  | 'name'
  | 'status'
  | 'bathroom'
  | 'bathroomSince'
  | 'verification'
  | 'verificationPhotos'
  | 'changedAfterTimeUp'
  | 'timeUp'
  | 'uploadedAt'
  | 'integrityEvents'
  | 'integrityReview'
  | 'proctoringType'
  | 'snapshotProblems'
>;

const key = (studentId: string, kind: AttentionKind) => `${kind}|${studentId}`;
const ms = (isoTime: string | null) => (isoTime === null ? undefined : Date.parse(isoTime));

type RowKinds = { kind: AttentionKind; at: number | undefined }[];
/** rowAttention's answers by row: the monitor replaces a row that changed and keeps the others. */
const ofRow = new WeakMap<AttentionRow, RowKinds>();
function rowAttentionOnce(row: AttentionRow): RowKinds {
  let kinds = ofRow.get(row);
  if (kinds === undefined) {
    kinds = rowAttention(row);
    ofRow.set(row, kinds);
  }
  return kinds;
}
/** Ties by name as localeCompare orders them, with one collator rather than a lookup per comparison. */
const byName = new Intl.Collator();

/** The kinds a row needs attention for, with the row's own time where it has one. */
export function rowAttention(row: AttentionRow): RowKinds {
  const out: RowKinds = [];
  if (row.bathroom === 'requested') out.push({ kind: 'bathroom', at: ms(row.bathroomSince) });
  if (row.status === 'waiting-relogin') out.push({ kind: 'relogin', at: undefined });
  if (row.verification === 'pending' && row.verificationPhotos > 0)
    out.push({ kind: 'verification-photo', at: undefined });
  if (row.changedAfterTimeUp && row.timeUp !== null && row.timeUp.decision === null)
    out.push({ kind: 'changed-after-time-up', at: ms(row.uploadedAt) });
  if (row.integrityEvents > 0 && row.integrityReview === 'not-reviewed') out.push({ kind: 'integrity', at: undefined });
  // The device cannot take the snapshots the exam asks for: until the type changes, the device
  // sends them after all, or a proctor reviews the examinee's integrity.
  const missing = snapshotSources(row.proctoringType).some((s) => row.snapshotProblems[s] !== undefined);
  if (missing && row.status !== 'submitted' && row.integrityReview === 'not-reviewed')
    out.push({ kind: 'snapshots', at: undefined });
  return out;
}

/**
 * Everything waiting now, oldest first (ties by name, then kind). `previous` is the last result,
 * so entries without a time of their own keep the time they were first seen; `now` is that time
 * for new ones.
 */
export function attentionItems(
  rows: readonly AttentionRow[],
  questions: readonly OpenQuestion[],
  previous: readonly AttentionItem[],
  now: number,
): AttentionItem[] {
  // Most calls follow an autosave, which changes nothing that waits: then the previous list
  // itself, found without building or sorting anything (and its users can tell by identity).
  const last = computedFrom.get(previous);
  if (last !== undefined) {
    const kinds = sameKinds(last, rows, questions);
    if (kinds !== undefined) {
      computedFrom.set(previous, { rows, kinds, questions });
      return previous as AttentionItem[];
    }
  }
  const result = computeAttention(rows, questions, previous, now);
  computedFrom.set(result, { rows, kinds: rows.map(rowAttentionOnce), questions });
  return result;
}

/** What a list attentionItems returned was computed from: its rows, their kinds and the questions. */
interface ComputedFrom {
  rows: readonly AttentionRow[];
  kinds: readonly RowKinds[];
  questions: readonly OpenQuestion[];
}
const computedFrom = new WeakMap<readonly AttentionItem[], ComputedFrom>();

const sameRowKinds = (a: RowKinds, b: RowKinds) =>
  a === b || (a.length === b.length && a.every((k, i) => k.kind === b[i]?.kind && k.at === b[i]?.at));

/**
 * The rows' kinds when `rows` and `questions` give the same list as `last` did (the same
 * examinees in the same places with the same names, kinds, times and questions); else undefined.
 * A row the monitor did not replace is the same object, so most rows cost one comparison.
 */
function sameKinds(
  last: ComputedFrom,
  rows: readonly AttentionRow[],
  questions: readonly OpenQuestion[],
): RowKinds[] | undefined {
  if (rows.length !== last.rows.length || questions.length !== last.questions.length) return undefined;
  if (questions.some((q, i) => q.studentId !== last.questions[i]?.studentId || q.at !== last.questions[i]?.at))
    return undefined;
  const kinds: RowKinds[] = new Array<RowKinds>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    const before = last.rows[i]!;
    if (row === before) {
      kinds[i] = last.kinds[i]!;
      continue;
    }
    if (row.studentId !== before.studentId || row.name !== before.name) return undefined;
    const now = rowAttentionOnce(row);
    if (!sameRowKinds(now, last.kinds[i]!)) return undefined;
    kinds[i] = now;
  }
  return kinds;
}

function computeAttention(
  rows: readonly AttentionRow[],
  questions: readonly OpenQuestion[],
  previous: readonly AttentionItem[],
  now: number,
): AttentionItem[] {
  const seen = new Map(previous.map((p) => [key(p.studentId, p.kind), p.since]));
  const out: AttentionItem[] = [];
  const names = new Map(rows.map((r) => [r.studentId, r.name]));
  for (const r of rows)
    for (const { kind, at } of rowAttentionOnce(r))
      out.push({ studentId: r.studentId, name: r.name, kind, since: at ?? seen.get(key(r.studentId, kind)) ?? now });
  const oldestQuestion = new Map<string, number>();
  for (const q of questions) oldestQuestion.set(q.studentId, Math.min(q.at, oldestQuestion.get(q.studentId) ?? q.at));
  for (const [studentId, at] of oldestQuestion)
    out.push({ studentId, name: names.get(studentId) ?? studentId, kind: 'question', since: at });
  return out.sort(
    (a, b) =>
      a.since - b.since ||
      byName.compare(a.name, b.name) ||
      ATTENTION_KINDS.indexOf(a.kind) - ATTENTION_KINDS.indexOf(b.kind),
  );
}

/** Items in `next` that were not in `previous`: what a toast and the sound announce. */
export function newAttention(previous: readonly AttentionItem[], next: readonly AttentionItem[]): AttentionItem[] {
  const had = new Set(previous.map((p) => key(p.studentId, p.kind)));
  return next.filter((n) => !had.has(key(n.studentId, n.kind)));
}

/** A message as the monitor streams it, the fields openQuestions reads. */
interface QuestionMessage {
  at: string;
  audience: MessageAudience;
  studentId: string | null;
}

/** Examinees' questions with no private answer from a proctor after them. */
export function openQuestions(messages: readonly QuestionMessage[]): OpenQuestion[] {
  const answeredAt = new Map<string, number>();
  for (const m of messages)
    if (m.audience === 'examinee' && m.studentId !== null)
      answeredAt.set(m.studentId, Math.max(Date.parse(m.at), answeredAt.get(m.studentId) ?? 0));
  return messages
    .filter((m) => m.audience === 'proctors' && m.studentId !== null)
    .map((m) => ({ studentId: m.studentId!, at: Date.parse(m.at) }))
    .filter((q) => q.at > (answeredAt.get(q.studentId) ?? -Infinity));
}
