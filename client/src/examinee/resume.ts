/**
 * Unlocking a locked exam on the device with a resume code (docs/resume-codes.md): the logic
 * behind lock-screen.tsx, with no DOM so that it is tested in Node.
 *
 * The device holds eight triples (challenge, salt, PBKDF2 hash of the resume code). It shows the
 * first challenge it has not spent; the proctor reads out the resume code for it; the device runs
 * PBKDF2 on what was typed and compares (verifyResumeCodeOffline, no network). A right code
 * unlocks and spends the challenge; RESUME_WRONG_TRIES wrong codes spend it too; "I lost the code"
 * spends it on purpose. Wrong tries per challenge are kept in localStorage, so a reload does not
 * give five fresh tries. Text that cannot be a resume code (wrong length, other characters) is
 * neither counted nor reported: it is a typo, not a guess.
 *
 * Every well-formed entry, right or wrong, is reported to the appliance (POST /api/exam/resume)
 * through a persistent outbox (outbox.ts): the appliance records the use, counts wrong codes and
 * locks a challenge on the fifth, as the device does. The answer changes nothing on the device
 * (it has already decided offline); refusals (wrong code, used, locked) are dropped from the
 * outbox and kept in its settled log.
 */
import {
  parseResumeCode,
  pbkdf2Sha256Js,
  RESUME_WRONG_TRIES,
  verifyResumeCodeOffline,
  type Pbkdf2Sha256,
  type ResumeTriple,
} from '../../../domain/resume-codes.js';
import { callApi } from '../shared/api';
import { apiHeaders } from './api';
import { createOutbox, memoryStorage, type Outbox, type OutboxOptions, type OutboxStorage } from './outbox';

/** Why the exam is locked (the same values as local-db.ts LockReason). */
export type LockReason = 'reload' | 'fullscreen-exit';

/** PBKDF2-HMAC-SHA256 with WebCrypto (native, ~50 ms for 100,000 iterations on a laptop). */
export function webCryptoPbkdf2(subtle: SubtleCrypto): Pbkdf2Sha256 {
  return async (password, salt, iterations, length) => {
    const key = await subtle.importKey('raw', password as Uint8Array<ArrayBuffer>, 'PBKDF2', false, ['deriveBits']);
    const bits = await subtle.deriveBits(
      { name: 'PBKDF2', hash: 'SHA-256', salt: salt as Uint8Array<ArrayBuffer>, iterations },
      key,
      length * 8,
    );
    return new Uint8Array(bits);
  };
}

/**
 * The device's PBKDF2: WebCrypto where the page has it (secure contexts: https://, localhost),
 * else (plain http:// on the hall network) the pure-JS one, about ten times slower. A WebCrypto
 * that fails (an old engine without PBKDF2) falls back to the pure-JS one too.
 */
export function devicePbkdf2(subtle: SubtleCrypto | undefined = globalThis.crypto?.subtle): Pbkdf2Sha256 {
  if (subtle === undefined) return pbkdf2Sha256Js;
  const native = webCryptoPbkdf2(subtle);
  return async (password, salt, iterations, length) => {
    try {
      return await native(password, salt, iterations, length);
    } catch {
      return pbkdf2Sha256Js(password, salt, iterations, length);
    }
  };
}

/** The triple to show: the first whose challenge is not spent. */
export function firstUnspent(triples: readonly ResumeTriple[], spent: Iterable<string>): ResumeTriple | undefined {
  const used = new Set(spent);
  return triples.find((t) => !used.has(t.challenge));
}

const WRONG_TRIES_KEY = 'exam-hall.resume-wrong-tries';

/** Wrong codes typed per challenge on this device, kept across reloads. */
export interface WrongTries {
  count(challenge: string): number;
  /** Counts one more wrong code; the new count. */
  add(challenge: string): number;
}

export function wrongTries(
  storage: OutboxStorage = typeof localStorage === 'undefined' ? memoryStorage() : localStorage,
): WrongTries {
  const read = (): Record<string, number> => {
    try {
      const value: unknown = JSON.parse(storage.getItem(WRONG_TRIES_KEY) ?? '{}');
      return typeof value === 'object' && value !== null ? (value as Record<string, number>) : {};
    } catch {
      return {};
    }
  };
  let memory: Record<string, number> | undefined;
  return {
    count: (challenge) => (memory ?? read())[challenge] ?? 0,
    add(challenge) {
      const all = { ...read(), ...memory };
      all[challenge] = (all[challenge] ?? 0) + 1;
      try {
        storage.setItem(WRONG_TRIES_KEY, JSON.stringify(all));
        memory = undefined;
      } catch {
        memory = all; // storage refused: count in memory for this page
      }
      return all[challenge];
    },
  };
}

/** The lock as the screen shows it. */
export interface ResumeLockState {
  /** The challenge to read out (normalised; show with formatChallenge), or undefined when all are spent. */
  challenge: string | undefined;
  /** Wrong codes still allowed for that challenge. */
  triesLeft: number;
  /** 1-based number of the challenge among the device's (e.g. 2 of 8), 0 when none is left. */
  number: number;
  total: number;
}

/** What typing a resume code came to. */
export type ResumeEntry =
  /** Not 10 characters of the code alphabet: not counted, not reported. */
  | { outcome: 'malformed' }
  /** Every challenge is spent: only the chief proctor can help. */
  | { outcome: 'no-challenge' }
  /** A check is already running. */
  | { outcome: 'busy' }
  | { outcome: 'unlocked'; challenge: string; resumeCode: string }
  /** `next` differs from `challenge` when this wrong code spent the challenge. */
  | { outcome: 'wrong'; challenge: string; triesLeft: number; next: string | undefined };

export interface ResumeLockOptions {
  triples: readonly ResumeTriple[];
  /** Challenges already used or locked (the attempt's `spent`, the appliance's `spent`). */
  spent: Iterable<string>;
  /** A challenge was just spent on this device: persist it. */
  onSpend: (challenge: string) => void;
  /** Report a well-formed entry to the appliance (normally `resumeOutbox(token).report`). */
  report: (challenge: string, resumeCode: string) => void;
  /** Default: devicePbkdf2(). */
  pbkdf2?: Pbkdf2Sha256;
  /** Where wrong tries are counted. Default: wrongTries(localStorage). */
  tries?: WrongTries;
}

export interface ResumeLock {
  state(): ResumeLockState;
  /** Checks typed text against the current challenge (runs PBKDF2: tens of ms to a second). */
  enter(typed: string): Promise<ResumeEntry>;
  /** "I lost the code": spends the current challenge; the next one, if any. */
  skip(): string | undefined;
  /** Takes in challenges spent elsewhere (e.g. the appliance's list), without onSpend. */
  sync(spent: Iterable<string>): void;
}

export function createResumeLock(options: ResumeLockOptions): ResumeLock {
  const spent = new Set(options.spent);
  const pbkdf2 = options.pbkdf2 ?? devicePbkdf2();
  const tries = options.tries ?? wrongTries();
  // A challenge with all its wrong tries used is spent even if persisting that failed.
  const current = () =>
    options.triples.find((t) => !spent.has(t.challenge) && tries.count(t.challenge) < RESUME_WRONG_TRIES);
  const spend = (challenge: string) => {
    if (spent.has(challenge)) return;
    spent.add(challenge);
    options.onSpend(challenge);
  };
  let checking = false;

  const lock: ResumeLock = {
    state() {
      const triple = current();
      if (!triple) return { challenge: undefined, triesLeft: 0, number: 0, total: options.triples.length };
      return {
        challenge: triple.challenge,
        triesLeft: Math.max(0, RESUME_WRONG_TRIES - tries.count(triple.challenge)),
        number: options.triples.indexOf(triple) + 1,
        total: options.triples.length,
      };
    },
    async enter(typed) {
      const triple = current();
      if (!triple) return { outcome: 'no-challenge' };
      const resumeCode = parseResumeCode(typed);
      if (resumeCode === undefined) return { outcome: 'malformed' };
      // One check at a time: a second Enter while PBKDF2 runs must not count twice.
      if (checking) return { outcome: 'busy' };
      checking = true;
      let right: boolean;
      try {
        right = await verifyResumeCodeOffline(triple, resumeCode, pbkdf2);
      } finally {
        checking = false;
      }
      const challenge = triple.challenge;
      options.report(challenge, resumeCode);
      if (right) {
        spend(challenge);
        return { outcome: 'unlocked', challenge, resumeCode };
      }
      const wrong = tries.add(challenge);
      if (wrong >= RESUME_WRONG_TRIES) spend(challenge);
      return {
        outcome: 'wrong',
        challenge,
        triesLeft: Math.max(0, RESUME_WRONG_TRIES - wrong),
        next: current()?.challenge,
      };
    },
    skip() {
      const triple = current();
      if (triple) spend(triple.challenge);
      return current()?.challenge;
    },
    sync(more) {
      for (const c of more) spent.add(c);
    },
  };
  return lock;
}

/** One resume-code entry as POST /api/exam/resume takes it. */
export interface ResumeReport {
  challenge: string;
  resumeCode: string;
}

export const RESUME_OUTBOX_KEY = 'exam-hall.outbox.resume';

/**
 * The persistent outbox of resume-code entries for the appliance. Every 4xx (wrong code, used,
 * locked, unknown challenge, session gone) is final and dropped (recorded in `settled()`);
 * network errors and 5xx are retried, at once on `online`.
 */
export function resumeOutbox(
  token: string,
  options: Partial<Omit<OutboxOptions<ResumeReport>, 'key' | 'token' | 'send'>> = {},
): Outbox<ResumeReport> & { report(challenge: string, resumeCode: string): void } {
  const outbox = createOutbox<ResumeReport>({
    key: RESUME_OUTBOX_KEY,
    token,
    send: (item, itemToken) =>
      callApi('/api/exam/resume', { method: 'POST', headers: apiHeaders(itemToken), json: item }),
    ...options,
  });
  return {
    ...outbox,
    report: (challenge, resumeCode) => void outbox.add({ challenge, resumeCode }),
  };
}
