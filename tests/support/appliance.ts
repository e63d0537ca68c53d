/**
 * Test support: an exam timed around a fake clock, a small roster with known access codes, an
 * appliance on real on-disk storage in a temp folder, and an examinee client over app.request().
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Hono } from 'hono';
import { serialiseAnswerFile, type AnswerFile } from '../../domain/answers.js';
import { sha256HexOfText } from '../../domain/canonical.js';
import type { Clock } from '../../domain/clock.js';
import type { ClockTrust } from '../../appliance/src/time/clock-trust.js';
import { examFileSchema, rosterEntrySchema, type ExamFile, type RosterEntry } from '../../domain/exam-format.js';
import { buildApp } from '../../appliance/src/app.js';
import type { ExamDay } from '../../appliance/src/exam-day.js';
import { createServices, type Services } from '../../appliance/src/services.js';
import { toExamDoc, toExamineeDoc } from '../../domain/exam-import.js';
import { HallStore } from '../../appliance/src/store/hall-store.js';

export const CLIENT_VERSION = '0.1.0';
const MIN = 60_000;

/** An exam starting at `startMs`: download window from 1 h before to 30 min after the start. */
export function testExam(startMs: number, overrides: Partial<Record<string, unknown>> = {}): ExamFile {
  return examFileSchema.parse({
    formatVersion: 1,
    examId: 'exam-1',
    title: 'Chemistry 201 — Final',
    assessmentType: 'Final exam',
    scheduledStart: new Date(startMs).toISOString(),
    durationMinutes: 60,
    downloadWindow: {
      opens: new Date(startMs - 60 * MIN).toISOString(),
      closes: new Date(startMs + 30 * MIN).toISOString(),
    },
    uploadDeadline: new Date(startMs + 120 * MIN).toISOString(),
    minimumClientVersion: '0.1.0',
    lateLoginMinutes: 15,
    verificationMode: 'manual',
    sections: [
      {
        id: 's1',
        title: 'Part A',
        questions: [
          {
            id: 'q1',
            type: 'single-choice',
            prompt: 'What is the symbol of sodium? SECRET-PROMPT-MARKER',
            points: 2,
            options: [
              { id: 'a', text: 'Na' },
              { id: 'b', text: 'So' },
            ],
            answerKey: 'a',
          },
          { id: 'q2', type: 'true-false', prompt: 'Water boils at 100 °C at sea level.', points: 1, answerKey: true },
          {
            id: 'q3',
            type: 'numeric',
            prompt: 'Avogadro exponent?',
            points: 1,
            answerKey: { value: 23, tolerance: 0 },
          },
          { id: 'q4', type: 'essay', prompt: 'Explain entropy.', points: 5 },
          {
            id: 'q5',
            type: 'file',
            prompt: 'Upload your lab report.',
            points: 5,
            accept: ['pdf'],
            maxBytes: 1024 * 1024,
          },
        ],
      },
    ],
    ...overrides,
  });
}

/** Three examinees; S2 has a 50 % accommodation, S3 may download once. */
export const TEST_ROSTER: RosterEntry[] = [
  { studentId: 'S1', name: 'Ada Lovelace', email: 'ada@example.org', accessCode: 'AAAA1111BBBB', maxDownloads: 2 },
  { studentId: 'S2', name: 'Alan Turing', accessCode: 'CCCC2222DDDD', maxDownloads: 2, accommodationPercent: 50 },
  { studentId: 'S3', name: 'Grace Hopper', accessCode: 'EEEE3333FFFF', maxDownloads: 1 },
].map((e) => rosterEntrySchema.parse(e));

export interface TestAppliance {
  dataDir: string;
  store: HallStore;
  examDay: ExamDay;
  services: Services;
  app: Hono;
  close(): Promise<void>;
}

/** Opens an appliance on real disk in a fresh temp folder (or `dataDir`) and imports the exam. */
export async function openTestAppliance(
  clock: Clock,
  options: {
    exam?: ExamFile;
    roster?: RosterEntry[];
    dataDir?: string;
    clockTrust?: ClockTrust;
    /** How sign-in delays are waited out (e.g. recorded, at once); a real timer when absent. */
    signInSleep?: (ms: number) => Promise<void>;
  } = {},
): Promise<TestAppliance> {
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(tmpdir(), 'appliance-test-')));
  // A ClockTrust (around `clock`) is the store's clock when given, as in main.ts.
  const store = await HallStore.open({ dataDir, clock: options.clockTrust ?? clock, hallId: 'test-hall' });
  if (options.exam !== null) {
    const exam = options.exam ?? testExam(clock.now() + 30 * MIN);
    if (!(await store.hasExam(exam.examId))) {
      await store.putExam(
        toExamDoc(exam),
        (options.roster ?? TEST_ROSTER).map((e) => toExamineeDoc(exam.examId, e)),
      );
    }
  }
  const services = createServices(store, {
    signInAttempts: 10,
    maxFileBytes: 25 * 1024 * 1024,
    presenceTimeoutSeconds: 30,
    ...(options.clockTrust ? { clockTrust: options.clockTrust } : {}),
    ...(options.signInSleep ? { signInSleep: options.signInSleep } : {}),
  });
  const app = buildApp({
    services,
    version: '0.1.0',
    client: { kind: 'placeholder', html: '<!doctype html><title>test</title>' },
    log: () => undefined,
  });
  return {
    dataDir,
    store,
    examDay: services.examDay,
    services,
    app,
    async close() {
      await store.close();
    },
  };
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** An examinee talking to the appliance as the PWA would. */
export class ExamineeClient {
  token: string | undefined;

  constructor(
    private readonly app: Hono,
    readonly studentId: string,
    readonly accessCode: string,
    readonly deviceId = `device-${studentId}-0123456789abcdef`,
  ) {}

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return {
      'x-client-version': CLIENT_VERSION,
      ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
      ...extra,
    };
  }

  async signIn(): Promise<Response> {
    const res = await this.app.request('/api/session', {
      method: 'POST',
      headers: this.headers({ 'content-type': 'application/json' }),
      body: JSON.stringify({ studentId: this.studentId, accessCode: this.accessCode, deviceId: this.deviceId }),
    });
    if (res.ok) this.token = ((await res.clone().json()) as { token: string }).token;
    return res;
  }

  async get(p: string): Promise<Response> {
    return this.app.request(p, { headers: this.headers() });
  }

  async putDraft(counter: number, answers: AnswerFile['answers']): Promise<Response> {
    return this.app.request('/api/exam/draft', {
      method: 'PUT',
      headers: this.headers({ 'content-type': 'application/json' }),
      body: JSON.stringify({ counter, answers }),
    });
  }

  async uploadFile(
    body: string,
    name = 'report.pdf',
    questionId = 'q5',
    sha256 = sha256HexOfText(body),
  ): Promise<Response> {
    return this.app.request('/api/exam/files', {
      method: 'POST',
      headers: this.headers({
        'content-type': 'application/octet-stream',
        'x-question-id': questionId,
        'x-file-name': encodeURIComponent(name),
        'x-content-sha256': sha256,
      }),
      body,
    });
  }

  /** The answer file this examinee would submit. */
  answerFile(answers: AnswerFile['answers'], examId = 'exam-1'): string {
    return serialiseAnswerFile({ format: 'answers/v1', examId, studentId: this.studentId, answers, flagged: [] });
  }

  async submit(body: string, options: { sha256?: string; type?: 'manual' | 'automatic' } = {}): Promise<Response> {
    return this.app.request('/api/exam/submission', {
      method: 'POST',
      headers: this.headers({
        'content-type': 'application/json',
        'x-content-sha256': options.sha256 ?? sha256HexOfText(body),
        'x-submission-type': options.type ?? 'manual',
      }),
      body,
    });
  }
}

/** Adds the demo-style proctor accounts to a test appliance. */
export async function addTestProctors(appliance: TestAppliance): Promise<void> {
  const now = new Date(appliance.store.clock.now());
  await appliance.services.accounts.add({ username: 'chief', role: 'chief', password: 'chief-password-1' }, now);
  await appliance.services.accounts.add({ username: 'invi', role: 'invigilator', password: 'invi-password-1' }, now);
}

export const ORIGIN = 'http://localhost';

/** A proctor's browser: keeps the session cookie and sends this appliance's Origin. */
export class ProctorClient {
  cookie: string | undefined;

  constructor(private readonly app: Hono) {}

  async login(username: string, password: string): Promise<Response> {
    const res = await this.app.request('/api/proctor/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: ORIGIN },
      body: JSON.stringify({ username, password }),
    });
    const set = res.headers.get('set-cookie');
    if (res.ok && set) this.cookie = set.split(';')[0];
    return res;
  }

  async request(method: string, p: string, body?: unknown): Promise<Response> {
    return this.app.request(p, {
      method,
      headers: {
        ...(this.cookie ? { cookie: this.cookie } : {}),
        ...(method === 'GET' ? {} : { origin: ORIGIN, 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  }

  async json<T>(method: string, p: string, body?: unknown): Promise<T> {
    const res = await this.request(method, p, body);
    if (!res.ok) throw new Error(`${method} ${p} → ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }
}

/** Reads a server-sent event stream and waits for events matching a condition. */
export class SseReader {
  readonly events: { event: string; data: unknown }[] = [];
  private buffer = '';
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();

  constructor(res: Response) {
    if (!res.body) throw new Error('no body');
    this.reader = res.body.getReader();
  }

  /** Reads until an event satisfies `match` (checking those already read first), or fails after `ms`. */
  async waitFor(
    match: (e: { event: string; data: unknown }) => boolean,
    ms = 5_000,
  ): Promise<{ event: string; data: unknown }> {
    const deadline = Date.now() + ms;
    let from = 0;
    for (;;) {
      for (; from < this.events.length; from++) {
        const e = this.events[from];
        if (e && match(e)) {
          from++;
          this.events.splice(0, from);
          return e;
        }
      }
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`no matching event within ${ms} ms; saw ${this.events.map((e) => e.event).join(', ')}`);
      const chunk = await Promise.race([
        this.reader.read(),
        new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), left)),
      ]);
      if (chunk === 'timeout') continue;
      if (chunk.done) throw new Error('stream ended');
      this.buffer += this.decoder.decode(chunk.value, { stream: true });
      let end = this.buffer.indexOf('\n\n');
      while (end !== -1) {
        const block = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        const event = /^event: ?(.*)$/m.exec(block)?.[1] ?? 'message';
        const data = block
          .split('\n')
          .filter((l) => l.startsWith('data:'))
          .map((l) => l.replace(/^data: ?/, ''))
          .join('\n');
        this.events.push({ event, data: data === '' ? null : (JSON.parse(data) as unknown) });
        end = this.buffer.indexOf('\n\n');
      }
    }
  }

  async close(): Promise<void> {
    await this.reader.cancel().catch(() => undefined);
  }
}
