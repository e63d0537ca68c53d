/**
 * An exam hall for the browser tests: a real appliance (child process serving the built client)
 * on a fresh data folder with the test exam starting a few seconds ahead, its roster, the exam
 * password, a chief proctor account, and HTTP clients for the proctor and for reading what the
 * appliance holds. Tests wait for conditions, never a fixed time.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import path from 'node:path';
import { expect } from 'vitest';
import type { Page } from 'playwright-core';
import {
  ApplianceProcess,
  applianceEnv,
  makeTempDir,
  removeTempDir,
  runApplianceCli,
  writeExamFiles,
  type ExamOnDisk,
} from '../../tests/support/appliance-process.js';

export const CHIEF = { username: 'chief', password: 'chief-test-password' };

export interface Hall {
  tmp: string;
  files: ExamOnDisk;
  appliance: ApplianceProcess;
  /** Where the apps are: http://127.0.0.1:<port>, or https:// with `https`. */
  origin: string;
  /** The appliance's own CA certificate (PEM) with `https`, to check its certificate from the test. */
  ca: Buffer | undefined;
  password: string;
  /** When the exam starts (ms, the appliance's clock is this machine's). */
  startMs: number;
  /**
   * The box goes down hard (SIGKILL) and comes back on the same data and port; resolves when it
   * is ready again. `whileDown` runs in between.
   */
  restart(whileDown?: () => Promise<void>): Promise<void>;
  close(): Promise<void>;
}

/** Starts a hall whose exam begins `startAheadMs` from now, with these exam settings. */
export async function openHall(options: {
  startAheadMs: number;
  settings?: Record<string, unknown>;
  /** How many examinees the roster has (S1, S2, …; 3 unless told). */
  examinees?: number;
  /**
   * Changes to the test exam before it is imported, given the start (ms): more questions, say, or
   * a start in the past with its download window and late-login limit still open, so the exam
   * times up within seconds.
   */
  exam?: (exam: ExamOnDisk['exam'], startMs: number) => ExamOnDisk['exam'];
  /** The roster CSV to import instead of the plain one (studentId,name,accessCode,maxDownloads). */
  rosterCsv?: (roster: ExamOnDisk['roster']) => string;
  /** More appliance settings (PROCTOR_*), e.g. PROCTOR_CLOCK_TRUST. */
  env?: Record<string, string>;
  /** HTTPS with the appliance's own CA (PROCTOR_HTTPS_MODE=local-ca) on 127.0.0.1. */
  https?: boolean;
}): Promise<Hall> {
  const tmp = await makeTempDir('proctor-e2e-hall-');
  const dataDir = path.join(tmp, 'data');
  const startMs = Date.now() + options.startAheadMs;
  const files = await writeExamFiles(tmp, { startMs, examinees: options.examinees ?? 3 });
  if (options.exam) files.exam = options.exam(files.exam, startMs);
  files.exam.settings = { ...files.exam.settings, ...options.settings } as typeof files.exam.settings;
  await writeFile(files.examPath, `${JSON.stringify(files.exam, null, 2)}\n`);
  if (options.rosterCsv) await writeFile(files.rosterPath, options.rosterCsv(files.roster));
  const env = applianceEnv(dataDir);
  const imported = await runApplianceCli(['import', files.examPath, files.rosterPath], env);
  expect(imported.code, imported.stderr).toBe(0);
  const password = /Exam password[^:]*: (\S+)/.exec(imported.stdout)?.[1];
  expect(password, imported.stdout).toBeDefined();
  const added = await runApplianceCli(
    ['proctor', 'add', CHIEF.username, '--role', 'chief', '--password-stdin'],
    env,
    `${CHIEF.password}\n`,
  );
  expect(added.code, added.stderr).toBe(0);
  const https = options.https === true;
  const applianceSettings = {
    ...(https ? { PROCTOR_HTTPS_MODE: 'local-ca', PROCTOR_HTTP_PORT: '0' } : {}),
    ...options.env,
  };
  const appliance = await ApplianceProcess.start({ dataDir, env: applianceSettings });
  const hall: Hall = {
    tmp,
    files,
    appliance,
    origin: https ? `https://127.0.0.1:${appliance.port}` : appliance.baseUrl,
    ca: https ? await readFile(path.join(dataDir, 'tls', 'ca.crt')) : undefined,
    password: password!,
    startMs,
    async restart(whileDown) {
      const port = hall.appliance.port;
      await hall.appliance.kill();
      await whileDown?.();
      hall.appliance = await ApplianceProcess.start({
        dataDir,
        env: { ...applianceSettings, PROCTOR_PORT: String(port) },
      });
    },
    async close() {
      await hall.appliance.kill();
      await removeTempDir(tmp);
    },
  };
  return hall;
}

/** A proctor over HTTP (what the dashboard does, for steps the test does not click through). */
export class HttpProctor {
  private cookie = '';
  constructor(private readonly baseUrl: string) {}

  async login(): Promise<void> {
    const res = await fetch(`${this.baseUrl}/api/proctor/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: this.baseUrl },
      body: JSON.stringify(CHIEF),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    this.cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  }

  async call<T>(method: string, p: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await fetch(`${this.baseUrl}/api/proctor${p}`, {
      method,
      headers: {
        cookie: this.cookie,
        ...(method === 'GET' ? {} : { origin: this.baseUrl, 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as T };
  }
}

/** The examinee's session token as the page keeps it. */
export function pageToken(page: Page): Promise<string> {
  return page.evaluate(
    () =>
      (globalThis as unknown as { localStorage: { getItem(k: string): string | null } }).localStorage.getItem(
        'exam-hall.session',
      ) ?? '',
  );
}

/**
 * GET from the appliance as the examinee signed in on `page` (the same session, no second device).
 * Over HTTPS the appliance's certificate is checked against its own CA.
 */
export async function asExaminee<T>(hall: Hall, page: Page, p: string): Promise<{ status: number; body: T }> {
  const headers = { authorization: `Bearer ${await pageToken(page)}`, 'x-client-version': '0.1.0' };
  if (hall.ca !== undefined) return httpsGetJson<T>(`${hall.origin}${p}`, headers, hall.ca);
  const res = await fetch(`${hall.appliance.baseUrl}${p}`, { headers });
  return { status: res.status, body: (await res.json()) as T };
}

/** GET over HTTPS trusting only `ca` (Node's fetch cannot be given a CA without another package). */
function httpsGetJson<T>(
  url: string,
  headers: Record<string, string>,
  ca: Buffer,
): Promise<{ status: number; body: T }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, ca }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as T });
        } catch (err) {
          reject(err as Error);
        }
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Signs in on the page, downloads the exam and waits for its first question (at the start). */
export async function signInAndOpen(page: Page, hall: Hall, examineeIndex = 0): Promise<void> {
  const examinee = hall.files.roster[examineeIndex]!;
  await page.goto(`${hall.appliance.baseUrl}/`);
  await page.getByLabel('Student ID').fill(examinee.studentId);
  await page.getByLabel('Access code').fill(examinee.accessCode);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Download exam' }).click();
  await page.getByTestId('downloaded').waitFor();
  const total = hall.files.exam.sections.reduce((n, s) => n + s.questions.length, 0);
  await page
    .getByRole('heading', { name: `Question 1 of ${total}` })
    .waitFor({ timeout: Math.max(0, hall.startMs - Date.now()) + 20_000 });
}

/** Waits until `check` holds, asking every 200 ms; fails with `what` after `ms`. */
export async function eventually(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for: ${what}`);
}
