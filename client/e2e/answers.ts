/**
 * What the human-input tests check about an examinee's answers, at every place they live: the
 * field on screen, the device's database (the RxDB answer sheet in IndexedDB, read directly), the
 * appliance's draft (the replicated sheet), and after submitting the answer file as the appliance
 * stored it (its bytes in the data folder) and the signed receipt (signature, SHA-256 of those
 * bytes, and what the receipt screen shows). Plus the small steps the tests share: moving to a
 * question, throttling the CPU, submitting.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'vitest';
import type { CDPSession, Page } from 'playwright-core';
import { parsePublicKey, verifyReceipt } from '../../appliance/src/crypto/receipts.js';
import { answerFileSha256, serialiseAnswerFile } from '../../domain/answer-sheet.js';
import type { AnswerValue } from '../../domain/answers.js';
import { asExaminee, eventually, type Hall } from './hall.js';

// The page's IndexedDB as the function given to page.evaluate() uses it (the root tsconfig has no
// DOM library; see browser.ts).
interface IdbRequest<T> {
  result: T;
  error: unknown;
  onsuccess: (() => void) | null;
  onerror: (() => void) | null;
}
interface IdbDatabase {
  objectStoreNames: { contains(name: string): boolean };
  transaction(store: string): { objectStore(name: string): { getAll(): IdbRequest<unknown[]> } };
  close(): void;
}
declare const indexedDB: { open(name: string): IdbRequest<IdbDatabase> };

export type Answers = Record<string, AnswerValue>;

/** The device's answer sheet as RxDB keeps it. */
export interface DeviceSheet {
  id: string;
  counter: number;
  answers: Answers;
  flagged: string[];
  versions: Record<string, number>;
}

interface PulledSheet {
  documents: { counter: number; answers: Answers; flagged: string[] }[];
}

/** Clicks question n in the palette and waits until it is on screen, as a person looks. */
export async function goTo(p: Page, n: number): Promise<void> {
  await p
    .getByRole('navigation', { name: 'Questions' })
    .getByRole('button', { name: new RegExp(`^Question ${n},`) })
    .click();
  await p.getByRole('heading', { name: new RegExp(`^Question ${n} of `) }).waitFor();
}

/** The answer field of the question on screen. */
export const answerField = (p: Page) => p.getByRole('textbox', { name: 'Your answer' });

/** Slows the page's CPU `rate` times (DevTools protocol); returns the CDP session for more. */
export async function throttle(p: Page, rate: number): Promise<CDPSession> {
  const cdp = await p.context().newCDPSession(p);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate });
  return cdp;
}

/** The appliance's draft of the examinee signed in on `p` (empty before the first push). */
export async function draft(h: Hall, p: Page): Promise<Answers> {
  const { body } = await asExaminee<PulledSheet>(h, p, '/api/exam/answers/pull?counter=0');
  return body.documents[0]?.answers ?? {};
}

/**
 * The device's answer sheet, read from IndexedDB itself (RxDB's Dexie storage keeps a collection
 * in the database `rxdb-dexie-<name>--<schema version>--<collection>`, table `docs`): what is
 * there survives a crash of the tab.
 */
export async function deviceSheet(p: Page): Promise<DeviceSheet | undefined> {
  const docs = await p.evaluate(
    () =>
      new Promise<unknown[]>((resolve, reject) => {
        const open = indexedDB.open('rxdb-dexie-exam-hall-local--1--sheets');
        open.onerror = () => reject(new Error(String(open.error)));
        open.onsuccess = () => {
          const db = open.result;
          if (!db.objectStoreNames.contains('docs')) {
            db.close();
            resolve([]);
            return;
          }
          const all = db.transaction('docs').objectStore('docs').getAll();
          all.onerror = () => reject(new Error(String(all.error)));
          all.onsuccess = () => {
            db.close();
            resolve(all.result);
          };
        };
      }),
  );
  return docs[0] as DeviceSheet | undefined;
}

/** The device's stored answers ({} before the sheet exists). */
export async function deviceAnswers(p: Page): Promise<Answers> {
  return (await deviceSheet(p))?.answers ?? {};
}

/** Waits until the device's database and then the appliance's draft hold exactly `expected`. */
export async function expectSaved(h: Hall, p: Page, expected: Answers, ms = 30_000): Promise<void> {
  await eventually(
    'the answers in the device database',
    async () => JSON.stringify(sorted(await deviceAnswers(p))) === JSON.stringify(sorted(expected)),
    ms,
  );
  expect(await deviceAnswers(p)).toEqual(expected);
  await eventually(
    'the answers in the appliance draft',
    async () => JSON.stringify(sorted(await draft(h, p))) === JSON.stringify(sorted(expected)),
    ms,
  );
  expect(await draft(h, p)).toEqual(expected);
  await p.getByTestId('connection').filter({ hasText: 'Connected: answers saved' }).waitFor({ timeout: ms });
}

const sorted = (a: Answers) => Object.fromEntries(Object.entries(a).sort(([x], [y]) => (x < y ? -1 : 1)));

/** What the appliance stored of a submission and the receipt it signed. */
export interface Submitted {
  /** The answer file's bytes as stored on the appliance (its data folder). */
  bytes: string;
  answers: Answers;
  sha256: string;
}

/**
 * Submits from the exam screen (review, submit, confirm), waits for the receipt, and checks the
 * chain: the answer file stored on the appliance is byte for byte the canonical file of
 * `expected`; the receipt's signature holds, it names that file's SHA-256 and size, and the
 * receipt screen shows the same SHA-256.
 */
export async function submitAndCheck(
  h: Hall,
  p: Page,
  studentId: string,
  expected: Answers,
  options: { flagged?: string[]; timeoutMs?: number } = {},
): Promise<Submitted> {
  await p.getByRole('button', { name: 'Review and submit' }).first().click();
  await p.getByRole('button', { name: 'Submit my answers' }).click();
  await p.getByRole('button', { name: 'Yes, submit' }).click();
  await p.getByRole('heading', { name: 'Submission received' }).waitFor({ timeout: options.timeoutMs ?? 30_000 });
  return checkSubmission(h, p, studentId, expected, options.flagged ?? []);
}

/** The checks of submitAndCheck on a submission already made. */
export async function checkSubmission(
  h: Hall,
  p: Page,
  studentId: string,
  expected: Answers,
  flagged: string[] = [],
): Promise<Submitted> {
  const file = { format: 'answers/v1' as const, examId: h.files.exam.examId, studentId, answers: expected, flagged };
  const { status, body } = await asExaminee<{ sha256: string; size: number; receipt: unknown }>(
    h,
    p,
    '/api/exam/submission',
  );
  expect(status).toBe(200);
  const bytes = await readFile(path.join(h.tmp, 'data', 'blobs', body.sha256.slice(0, 2), body.sha256), 'utf8');
  const stored = JSON.parse(bytes) as { answers: Answers };
  // Compared as values first (a readable diff), then byte for byte.
  expect(stored.answers).toEqual(expected);
  expect(bytes).toBe(serialiseAnswerFile(file));
  expect(body.sha256).toBe(answerFileSha256(file));
  const receipt = body.receipt as { publicKey: string; payload: { sha256: string; size: number } };
  // Trusted: the appliance's own key as it publishes it, not the one the receipt carries.
  const key = (await (await fetch(`${h.appliance.baseUrl}/api/receipt-key`)).json()) as { pem: string };
  const checked = verifyReceipt(receipt, parsePublicKey(key.pem));
  expect(checked.ok, JSON.stringify(checked)).toBe(true);
  expect(receipt.payload.sha256).toBe(body.sha256);
  expect(receipt.payload.size).toBe(Buffer.byteLength(bytes));
  expect((await p.getByTestId('receipt-sha256').textContent())?.trim()).toBe(body.sha256);
  return { bytes, answers: stored.answers, sha256: body.sha256 };
}
