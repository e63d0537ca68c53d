/**
 * The demo: on the first start with an empty data folder, `npm start` imports the sample exam
 * and roster from examples/, moved so that the exam starts a few minutes after boot.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Clock } from '../../domain/clock.js';
import type { ExamFile, RosterEntry } from '../../domain/exam-format.js';
import { parseExamFile, toExamDoc, toExamineeDoc } from '../../domain/exam-import.js';
import { formatImportErrors } from '../../domain/import-errors.js';
import { parseRoster } from '../../domain/roster-import.js';
import { DEMO_PROCTORS, type ProctorAccounts } from './proctors/accounts.js';
import type { HallStore } from './store/hall-store.js';

export const EXAMPLES_DIR = path.resolve(import.meta.dirname, '../../examples');
export const DEMO_EXAM_FILE = path.join(EXAMPLES_DIR, 'exam-demo.json');
export const DEMO_ROSTER_FILE = path.join(EXAMPLES_DIR, 'roster-demo.csv');
/** The demo exam's id (examples/exam-demo.json): the only exam whose password the start-up log prints. */
export const DEMO_EXAM_ID = 'demo-physics-101';

/** Moves every time in the exam by the same amount so that it starts at `startMs`. */
export function rescheduleExam(exam: ExamFile, startMs: number): ExamFile {
  const shift = startMs - Date.parse(exam.scheduledStart);
  const move = (iso: string) => new Date(Date.parse(iso) + shift).toISOString();
  return {
    ...exam,
    scheduledStart: move(exam.scheduledStart),
    downloadWindow: { opens: move(exam.downloadWindow.opens), closes: move(exam.downloadWindow.closes) },
    ...(exam.uploadDeadline === undefined ? {} : { uploadDeadline: move(exam.uploadDeadline) }),
  };
}

/** Reads and checks the demo files (they are part of the product: a failure is a bug). */
export async function readDemo(): Promise<{ exam: ExamFile; roster: RosterEntry[] }> {
  const examResult = parseExamFile(await readFile(DEMO_EXAM_FILE, 'utf8'));
  if (!examResult.ok) throw new Error(formatImportErrors(DEMO_EXAM_FILE, examResult.errors));
  const rosterResult = parseRoster(await readFile(DEMO_ROSTER_FILE, 'utf8'), 'csv', examResult.exam.examId);
  if (!rosterResult.ok) throw new Error(formatImportErrors(DEMO_ROSTER_FILE, rosterResult.errors));
  return { exam: examResult.exam, roster: rosterResult.entries };
}

/**
 * Imports the demo once. Returns what to print, or undefined when the demo exam is already
 * there (a later start keeps its data and times).
 */
export async function seedDemoOnce(
  store: HallStore,
  clock: Clock,
  startMinutes: number,
): Promise<{ exam: ExamFile; roster: RosterEntry[] } | undefined> {
  const demo = await readDemo();
  if (await store.hasExam(demo.exam.examId)) return undefined;
  const exam = rescheduleExam(demo.exam, Math.ceil((clock.now() + startMinutes * 60_000) / 60_000) * 60_000);
  await store.putExam(
    toExamDoc(exam),
    demo.roster.map((e) => toExamineeDoc(exam.examId, e)),
  );
  return { exam, roster: demo.roster };
}

/**
 * Creates the demo proctor accounts when there are no proctors at all (a fresh demo); a box with
 * real accounts never gets them. Returns the usernames created.
 */
export async function seedDemoProctorsOnce(accounts: ProctorAccounts, now: Date): Promise<string[]> {
  if ((await accounts.list()).length > 0) return [];
  for (const p of DEMO_PROCTORS)
    await accounts.add({ username: p.username, displayName: p.displayName, role: p.role, password: p.password }, now);
  return DEMO_PROCTORS.map((p) => p.username);
}
