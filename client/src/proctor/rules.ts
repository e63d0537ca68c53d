/**
 * The monitor's small rules, kept apart from the screens so they are tested without a browser:
 * the progress histogram's buckets, a row's time left on the appliance's clock, and which
 * examinee a proctor means by what they typed.
 */
import type { ExamInfo, ParticipantRow } from './api';

/** How many examinees answered 0–24, 25–49, 50–74, 75–99 and 100 % of the questions. */
export function answeredBuckets(rows: readonly Pick<ParticipantRow, 'answeredPercent'>[]): number[] {
  const buckets = [0, 0, 0, 0, 0];
  for (const r of rows) {
    const i = r.answeredPercent >= 100 ? 4 : Math.max(0, Math.min(3, Math.floor(r.answeredPercent / 25)));
    buckets[i]!++;
  }
  return buckets;
}

/**
 * Time left of a row at appliance time `now`, counting down between updates (null once
 * submitted). Before the official start everyone has their whole allowed time (row.msLeft).
 */
export function rowTimeLeft(
  row: Pick<ParticipantRow, 'status' | 'msLeft' | 'deadline'>,
  info: Pick<ExamInfo, 'scheduledStart'> | undefined,
  now: number,
): number | null {
  if (row.status === 'submitted') return null;
  if (info && now < parsedTime(info.scheduledStart)) return row.msLeft;
  return Math.max(0, parsedTime(row.deadline) - now);
}

/**
 * Date.parse, remembered: the progress picture asks for the time left of every row at each
 * update (1,000 rows, a few times a second), and most rows share a deadline and the start.
 */
const PARSED = new Map<string, number>();
const PARSED_MAX = 5_000;
function parsedTime(iso: string): number {
  let ms = PARSED.get(iso);
  if (ms === undefined) {
    ms = Date.parse(iso);
    if (PARSED.size >= PARSED_MAX) PARSED.clear();
    PARSED.set(iso, ms);
  }
  return ms;
}

/** Case and accents ignored, as the participants search does (domain/monitor.ts). */
export const fold = (text: string): string => text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();

/**
 * The examinee a proctor means: an exact student id, "S1 — Name" as the suggestion list offers
 * it, a student id in another case, or a name that only one examinee has.
 */
export function findExaminee<R extends Pick<ParticipantRow, 'studentId' | 'name'>>(
  rows: readonly R[],
  typed: string,
): R | undefined {
  const text = typed.trim();
  if (text === '') return undefined;
  const head = text.split(' — ')[0]!.trim();
  const byId = rows.find((r) => r.studentId === head) ?? rows.find((r) => fold(r.studentId) === fold(head));
  if (byId) return byId;
  const byName = rows.filter((r) => fold(r.name) === fold(text));
  return byName.length === 1 ? byName[0] : undefined;
}
