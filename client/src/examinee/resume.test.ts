import { beforeAll, describe, expect, it, vi } from 'vitest';
import {
  deriveResumeKey,
  formatResumeCode,
  pbkdf2Sha256Js,
  resumeCodeFor,
  RESUME_WRONG_TRIES,
  tripleFor,
  type ResumeTriple,
} from '../../../domain/resume-codes.js';
import { memoryStorage } from './outbox';
import {
  createResumeLock,
  devicePbkdf2,
  resumeOutbox,
  webCryptoPbkdf2,
  wrongTries,
  type ResumeLockOptions,
} from './resume';

const EXAM = 'exam-1';
const STUDENT = 'S1001';
/** Fewer iterations than the appliance's 100,000 so the tests stay fast; the check is the same. */
const ITERATIONS = 1_000;
const resumeKey = deriveResumeKey(new Uint8Array(32).fill(7), EXAM);
const codeFor = (challenge: string) => formatResumeCode(resumeCodeFor(resumeKey, EXAM, STUDENT, challenge));
/** A well-formed code that is not the right one for `challenge`. */
const wrongCodeFor = (challenge: string) => {
  const right = resumeCodeFor(resumeKey, EXAM, STUDENT, challenge);
  return `${right.slice(0, 9)}${right.endsWith('Z') ? 'Y' : 'Z'}`;
};

// resume.ts reaches the API module, whose version Vite defines at build time.
vi.hoisted(() => Object.assign(globalThis, { __CLIENT_VERSION__: '0.0.0-test' }));

let triples: ResumeTriple[];
beforeAll(async () => {
  triples = await Promise.all([0, 1, 2].map((i) => tripleFor(resumeKey, EXAM, STUDENT, i, pbkdf2Sha256Js, ITERATIONS)));
});

/** A lock as a page would make it, on the given storage, recording what it spends and reports. */
function lockOn(storage: ReturnType<typeof memoryStorage>, spent: string[] = []) {
  const spends: string[] = [];
  const reports: [string, string][] = [];
  const options: ResumeLockOptions = {
    triples,
    spent,
    onSpend: (c) => spends.push(c),
    report: (c, code) => reports.push([c, code]),
    pbkdf2: pbkdf2Sha256Js,
    tries: wrongTries(storage),
  };
  return { lock: createResumeLock(options), spends, reports };
}

describe('resume lock (offline check of a resume code)', () => {
  it('shows the first challenge; the right code unlocks, spends it and is reported', async () => {
    const { lock, spends, reports } = lockOn(memoryStorage());
    const first = triples[0]!.challenge;
    expect(lock.state()).toEqual({ challenge: first, triesLeft: RESUME_WRONG_TRIES, number: 1, total: 3 });
    // Typed the way people type: lower case, spaces instead of the dash.
    const typed = codeFor(first).toLowerCase().replace('-', ' ');
    const entry = await lock.enter(typed);
    expect(entry).toEqual({
      outcome: 'unlocked',
      challenge: first,
      resumeCode: resumeCodeFor(resumeKey, EXAM, STUDENT, first),
    });
    expect(spends).toEqual([first]);
    expect(reports).toEqual([[first, resumeCodeFor(resumeKey, EXAM, STUDENT, first)]]);
    // Single use on the device: the next lock shows the next challenge.
    expect(lock.state()).toMatchObject({ challenge: triples[1]!.challenge, number: 2 });
  });

  it('does not take the code of another challenge', async () => {
    const { lock, spends } = lockOn(memoryStorage());
    const entry = await lock.enter(codeFor(triples[1]!.challenge));
    expect(entry).toMatchObject({ outcome: 'wrong', triesLeft: RESUME_WRONG_TRIES - 1 });
    expect(spends).toEqual([]);
  });

  it('counts wrong codes per challenge across a new lock on the same storage (a reload)', async () => {
    const storage = memoryStorage();
    const first = triples[0]!.challenge;
    const a = lockOn(storage);
    expect(await a.lock.enter(wrongCodeFor(first))).toEqual({
      outcome: 'wrong',
      challenge: first,
      triesLeft: 4,
      next: first,
    });
    expect(await a.lock.enter(wrongCodeFor(first))).toMatchObject({ outcome: 'wrong', triesLeft: 3 });
    // The page reloads: a new lock, the same storage, no fresh tries.
    const b = lockOn(storage);
    expect(b.lock.state()).toMatchObject({ challenge: first, triesLeft: 3 });
    expect(await b.lock.enter(wrongCodeFor(first))).toMatchObject({ outcome: 'wrong', triesLeft: 2 });
    expect(a.reports.length + b.reports.length).toBe(3);
  });

  it('the fifth wrong code spends the challenge and shows the next one', async () => {
    const { lock, spends, reports } = lockOn(memoryStorage());
    const [first, second] = [triples[0]!.challenge, triples[1]!.challenge];
    for (let i = 1; i < RESUME_WRONG_TRIES; i++) {
      expect(await lock.enter(wrongCodeFor(first))).toMatchObject({ outcome: 'wrong', next: first });
    }
    expect(await lock.enter(wrongCodeFor(first))).toEqual({
      outcome: 'wrong',
      challenge: first,
      triesLeft: 0,
      next: second,
    });
    expect(spends).toEqual([first]);
    expect(reports).toHaveLength(RESUME_WRONG_TRIES);
    expect(lock.state()).toEqual({ challenge: second, triesLeft: RESUME_WRONG_TRIES, number: 2, total: 3 });
    // Even the right code of the spent challenge no longer opens anything.
    expect(await lock.enter(codeFor(first))).toMatchObject({ outcome: 'wrong', challenge: second });
    // The right code of the one shown does.
    expect(await lock.enter(codeFor(second))).toMatchObject({ outcome: 'unlocked', challenge: second });
  });

  it('a challenge with five wrong codes stays spent even if persisting the spend was lost', async () => {
    const storage = memoryStorage();
    const first = triples[0]!.challenge;
    const a = lockOn(storage);
    for (let i = 0; i < RESUME_WRONG_TRIES; i++) await a.lock.enter(wrongCodeFor(first));
    // A new lock that was not told the challenge is spent (the attempt write did not land).
    const b = lockOn(storage, []);
    expect(b.lock.state().challenge).toBe(triples[1]!.challenge);
  });

  it('does not count or report text that cannot be a resume code', async () => {
    const { lock, spends, reports } = lockOn(memoryStorage());
    for (const typed of ['', '12345', 'ABCDE-1234!', 'ABCDE-123456', 'x'.repeat(100)]) {
      expect(await lock.enter(typed)).toEqual({ outcome: 'malformed' });
    }
    expect(lock.state().triesLeft).toBe(RESUME_WRONG_TRIES);
    expect(spends).toEqual([]);
    expect(reports).toEqual([]);
  });

  it('"I lost the code" spends the challenge and shows the next; then none is left', async () => {
    const { lock, spends } = lockOn(memoryStorage(), [triples[0]!.challenge]);
    expect(lock.state()).toMatchObject({ challenge: triples[1]!.challenge, number: 2 });
    expect(lock.skip()).toBe(triples[2]!.challenge);
    expect(lock.skip()).toBeUndefined();
    expect(spends).toEqual([triples[1]!.challenge, triples[2]!.challenge]);
    expect(lock.state()).toEqual({ challenge: undefined, triesLeft: 0, number: 0, total: 3 });
    expect(await lock.enter(codeFor(triples[2]!.challenge))).toEqual({ outcome: 'no-challenge' });
  });

  it('takes in challenges spent elsewhere without calling onSpend', () => {
    const { lock, spends } = lockOn(memoryStorage());
    lock.sync([triples[0]!.challenge]);
    expect(lock.state().challenge).toBe(triples[1]!.challenge);
    expect(spends).toEqual([]);
  });

  it('checks one code at a time', async () => {
    const { lock } = lockOn(memoryStorage());
    const first = triples[0]!.challenge;
    const [a, b] = await Promise.all([lock.enter(wrongCodeFor(first)), lock.enter(wrongCodeFor(first))]);
    expect([a.outcome, b.outcome].sort()).toEqual(['busy', 'wrong']);
    expect(lock.state().triesLeft).toBe(RESUME_WRONG_TRIES - 1);
  });
});

describe('the device PBKDF2', () => {
  it('WebCrypto gives the same bytes as the pure-JS fallback, and a failing WebCrypto falls back', async () => {
    const password = new TextEncoder().encode('ABCDE12345');
    const salt = new Uint8Array(16).fill(3);
    const js = await pbkdf2Sha256Js(password, salt, ITERATIONS, 32);
    expect(await webCryptoPbkdf2(globalThis.crypto.subtle)(password, salt, ITERATIONS, 32)).toEqual(js);
    const broken = { importKey: () => Promise.reject(new Error('no PBKDF2')) } as unknown as SubtleCrypto;
    expect(await devicePbkdf2(broken)(password, salt, ITERATIONS, 32)).toEqual(js);
    expect(await devicePbkdf2(undefined)(password, salt, ITERATIONS, 32)).toEqual(js);
  });

  it('verifies a triple made the appliance’s way', async () => {
    const { lock } = lockOn(memoryStorage());
    const entry = await createResumeLock({
      triples,
      spent: [],
      onSpend: () => undefined,
      report: () => undefined,
      pbkdf2: devicePbkdf2(globalThis.crypto.subtle),
      tries: wrongTries(memoryStorage()),
    }).enter(codeFor(triples[0]!.challenge));
    expect(entry.outcome).toBe('unlocked');
    expect(lock.state().challenge).toBe(triples[0]!.challenge);
  });
});

describe('resumeOutbox', () => {
  it('posts each entry to /api/exam/resume with the session token, and drops a refusal', async () => {
    const requests: { url: string; method: string; headers: Record<string, string>; body: unknown }[] = [];
    const answers = [
      new Response(JSON.stringify({ error: { code: 'resume-code-wrong', message: 'wrong' } }), { status: 403 }),
      new Response(JSON.stringify({ challenge: 'C' }), { status: 200 }),
    ];
    vi.stubGlobal('fetch', (url: string, init: RequestInit) => {
      requests.push({
        url,
        method: init.method ?? 'GET',
        headers: init.headers as Record<string, string>,
        body: JSON.parse(init.body as string),
      });
      return Promise.resolve(answers.shift()!);
    });
    try {
      const outbox = resumeOutbox('tok-1', {
        storage: memoryStorage(),
        events: new EventTarget(),
        isOnline: () => true,
      });
      outbox.report('AAAABBBB', 'WRONGWRONG');
      outbox.report('AAAABBBB', 'RIGHTRIGHT');
      await vi.waitFor(() => expect(outbox.settled()).toHaveLength(2));
      outbox.stop();
      expect(requests.map((r) => [r.url, r.method, r.headers.authorization, r.body])).toEqual([
        ['/api/exam/resume', 'POST', 'Bearer tok-1', { challenge: 'AAAABBBB', resumeCode: 'WRONGWRONG' }],
        ['/api/exam/resume', 'POST', 'Bearer tok-1', { challenge: 'AAAABBBB', resumeCode: 'RIGHTRIGHT' }],
      ]);
      expect(outbox.settled().map((s) => s.outcome)).toEqual(['dropped', 'sent']);
      expect(outbox.pending()).toEqual([]);
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
