/**
 * Resume codes ("continuation code / challenge key → resume code"): a proctor unlocks an exam
 * that locked on the examinee's device, and the device checks the code with no network.
 *
 * Spec "resume-codes/v1". All HMACs are HMAC-SHA256; "|" separates fields (exam and student ids
 * cannot contain it, see exam-format.ts); text is UTF-8; base32 is Crockford's alphabet
 * (CODE_ALPHABET), most significant bit first, taking the first n characters of the MAC.
 *
 *   resumeKey     = HMAC(sessionKey, "resume-key/v1|" + examId)               32 bytes, per exam
 *   challenge[i]  = base32(HMAC(resumeKey, "challenge|examId|studentId|" + i))[0..8)
 *                   i = 0..7; 40 bits; shown as "K7QH-3M9P"
 *   resumeCode(c) = base32(HMAC(resumeKey, "resume|examId|studentId|" + c))[0..10)
 *                   c the normalised challenge; 50 bits; shown as "XXXXX-XXXXX"
 *   salt[i]       = HMAC(resumeKey, "salt|examId|studentId|" + i)[0..16)
 *   hash[i]       = PBKDF2-HMAC-SHA256(password = normalised resumeCode(challenge[i]),
 *                                      salt[i], iterations = 100,000, 32 bytes)
 *   triple[i]     = { challenge, salt (hex), hash (hex), iterations }
 *
 * sessionKey is the appliance's local 32-byte secret (data/secrets.json, never replicated, never
 * sent to a client), so resumeKey needs no storage of its own and differs per exam. Session
 * tokens MAC base64url text, which has no "|", so the two uses of sessionKey never MAC the same
 * message. Everything else is derived, so nothing is stored: after a restart the appliance gets
 * the same challenges, codes and triples, and it can tell from a challenge alone which of the
 * examinee's eight it is (findChallenge).
 *
 * Flow: after sign-in the device fetches its 8 triples. When the exam locks, it shows the first
 * challenge it has not spent; the proctor types that challenge on the examinee's page and reads
 * out the resume code; the device computes PBKDF2 of the typed code with the triple's salt and
 * compares it with the triple's hash (verifyResumeCodeOffline). A challenge is spent once its
 * code is accepted (single use) or after RESUME_WRONG_TRIES wrong codes. The appliance gives a
 * code for a challenge only once and refuses used or locked challenges; when online, the device
 * reports each entry so the appliance records it.
 *
 * Typed text is normalised like access codes: upper case, spaces and dashes dropped, O read as 0,
 * I and L as 1.
 *
 * Strength. A code is 50 bits (2^50 ≈ 1.1e15). An examinee with full access to the device's
 * storage has the triples and must search codes offline through PBKDF2: one RTX 4090 does about
 * 8.8e9 PBKDF2-HMAC-SHA256 iterations a second (hashcat mode 10900: ~8.8 MH/s at 999
 * iterations), so about 88,000 guesses a second at 100,000 iterations; the expected 2^49 guesses
 * then take about 6.4e9 s ≈ 200 GPU-years per triple. In a four-hour exam, 100 such GPUs on all
 * eight triples succeed with probability below 0.1 %. The per-triple salt makes each triple a
 * separate search. The appliance, which checks codes with one HMAC, allows RESUME_WRONG_TRIES
 * wrong codes per challenge (40 guesses per examinee in all: success 40/2^50 ≈ 4e-14). The
 * challenge is not secret; its 40 bits keep an examinee's challenges distinct from everyone
 * else's, so that a code obtained for one examinee or exam opens nothing else.
 *
 * Cost for honest parties: the device runs PBKDF2 once per typed code (~50 ms with WebCrypto on
 * a laptop, ~0.5 s in pure JS); the appliance runs it eight times per examinee, once, on Node's
 * threadpool (see appliance/src/resume-codes.ts).
 */
import { hmac } from '@noble/hashes/hmac.js';
import { pbkdf2Async } from '@noble/hashes/pbkdf2.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { constantTimeEqualHex } from './access-code.js';
import { CODE_ALPHABET, normaliseAccessCode } from './codes.js';

/** How many challenges (and triples) each examinee gets per exam. */
export const RESUME_CHALLENGES_PER_EXAMINEE = 8;
/** Characters of a challenge (5 bits each). */
export const CHALLENGE_LENGTH = 8;
/** Bits of a challenge. */
export const CHALLENGE_BITS = CHALLENGE_LENGTH * 5;
/** Characters of a resume code (5 bits each). */
export const RESUME_CODE_LENGTH = 10;
/** Bits of a resume code: what an offline attacker must search. */
export const RESUME_CODE_BITS = RESUME_CODE_LENGTH * 5;
/** PBKDF2-HMAC-SHA256 iterations of a triple's hash (the argument is in the spec above). */
export const RESUME_PBKDF2_ITERATIONS = 100_000;
export const RESUME_SALT_BYTES = 16;
export const RESUME_HASH_BYTES = 32;
/** Wrong codes for one challenge before it locks (on the appliance and on the device). */
export const RESUME_WRONG_TRIES = 5;

/**
 * PBKDF2-HMAC-SHA256. The appliance passes node:crypto's (it runs on the threadpool), a browser
 * WebCrypto's deriveBits, and tests or a browser without crypto.subtle {@link pbkdf2Sha256Js}.
 */
export type Pbkdf2Sha256 = (
  password: Uint8Array,
  salt: Uint8Array,
  iterations: number,
  length: number,
) => Promise<Uint8Array>;

/** What the device keeps to check a resume code offline: one per challenge. */
export interface ResumeTriple {
  /** The normalised challenge (8 characters); show it with {@link formatChallenge}. */
  challenge: string;
  /** Lower-case hex, 16 bytes. */
  salt: string;
  /** Lower-case hex PBKDF2-HMAC-SHA256 of the normalised resume code, 32 bytes. */
  hash: string;
  iterations: number;
}

/** PBKDF2-HMAC-SHA256 in pure JS (@noble/hashes), yielding to the event loop as it goes. */
export const pbkdf2Sha256Js: Pbkdf2Sha256 = (password, salt, iterations, length) =>
  pbkdf2Async(sha256, password, salt, { c: iterations, dkLen: length });

/**
 * The exam's resume key: HMAC-SHA256(sessionKey, "resume-key/v1|" + examId).
 * @param sessionKey the appliance's local session key (raw bytes), never sent to a client
 */
export function deriveResumeKey(sessionKey: Uint8Array, examId: string): Uint8Array {
  return mac(sessionKey, `resume-key/v1|${field(examId)}`);
}

/**
 * The first `length` characters of the Crockford base32 encoding of `bytes`, most significant
 * bit first (so 8 characters carry exactly the first 5 bytes).
 */
export function encodeCrockford(bytes: Uint8Array, length: number): string {
  if (length * 5 > bytes.length * 8) throw new RangeError('encodeCrockford: not enough bytes');
  let out = '';
  let buffer = 0;
  let bits = 0;
  let i = 0;
  while (out.length < length) {
    if (bits < 5) {
      buffer = ((buffer << 8) | bytes[i++]!) & 0xfff;
      bits += 8;
    }
    bits -= 5;
    out += CODE_ALPHABET[(buffer >> bits) & 31];
  }
  return out;
}

/** Normalises typed text as for access codes: upper case, no spaces or dashes, O→0, I/L→1. */
export function normaliseResumeText(text: string): string {
  return normaliseAccessCode(text);
}

const CHALLENGE_PATTERN = new RegExp(`^[${CODE_ALPHABET}]{${CHALLENGE_LENGTH}}$`);
const RESUME_CODE_PATTERN = new RegExp(`^[${CODE_ALPHABET}]{${RESUME_CODE_LENGTH}}$`);
/** Longer typed text is not a code; stops work on junk before normalising. */
const MAX_TYPED_LENGTH = 64;

/** The normalised challenge in typed text, or undefined when it cannot be one. */
export function parseChallenge(text: string): string | undefined {
  if (text.length > MAX_TYPED_LENGTH) return undefined;
  const c = normaliseResumeText(text);
  return CHALLENGE_PATTERN.test(c) ? c : undefined;
}

/** The normalised resume code in typed text, or undefined when it cannot be one. */
export function parseResumeCode(text: string): string | undefined {
  if (text.length > MAX_TYPED_LENGTH) return undefined;
  const c = normaliseResumeText(text);
  return RESUME_CODE_PATTERN.test(c) ? c : undefined;
}

/** A challenge as shown: "K7QH-3M9P". */
export function formatChallenge(challenge: string): string {
  const c = normaliseResumeText(challenge);
  return `${c.slice(0, 4)}-${c.slice(4)}`;
}

/** A resume code as shown and read out: "XXXXX-XXXXX". */
export function formatResumeCode(code: string): string {
  const c = normaliseResumeText(code);
  return `${c.slice(0, 5)}-${c.slice(5)}`;
}

/** Challenge `index` (0..7) of an examinee, normalised (8 characters). */
export function challengeFor(resumeKey: Uint8Array, examId: string, studentId: string, index: number): string {
  checkIndex(index);
  return encodeCrockford(mac(resumeKey, `challenge|${field(examId)}|${field(studentId)}|${index}`), CHALLENGE_LENGTH);
}

/** All of an examinee's challenges, in order. */
export function challengesFor(resumeKey: Uint8Array, examId: string, studentId: string): string[] {
  return Array.from({ length: RESUME_CHALLENGES_PER_EXAMINEE }, (_, i) =>
    challengeFor(resumeKey, examId, studentId, i),
  );
}

/**
 * Which of the examinee's challenges typed text is: its index, or undefined when it is not one
 * of theirs (malformed, another examinee's or another exam's).
 */
export function findChallenge(
  resumeKey: Uint8Array,
  examId: string,
  studentId: string,
  challengeText: string,
): number | undefined {
  const challenge = parseChallenge(challengeText);
  if (challenge === undefined) return undefined;
  const index = challengesFor(resumeKey, examId, studentId).indexOf(challenge);
  return index < 0 ? undefined : index;
}

/**
 * The resume code for a challenge, normalised (10 characters); show it with
 * {@link formatResumeCode}. The caller checks first that the challenge is the examinee's.
 */
export function resumeCodeFor(resumeKey: Uint8Array, examId: string, studentId: string, challenge: string): string {
  return encodeCrockford(
    mac(resumeKey, `resume|${field(examId)}|${field(studentId)}|${normaliseResumeText(challenge)}`),
    RESUME_CODE_LENGTH,
  );
}

/**
 * Whether typed text is the resume code for the challenge (the appliance's check: one HMAC,
 * compared in constant time).
 */
export function isResumeCodeFor(
  resumeKey: Uint8Array,
  examId: string,
  studentId: string,
  challenge: string,
  typedCode: string,
): boolean {
  const typed = parseResumeCode(typedCode);
  if (typed === undefined) return false;
  return constantTimeEqualHex(typed, resumeCodeFor(resumeKey, examId, studentId, challenge));
}

/** The salt of triple `index`: 16 bytes, derived so that nothing is stored. */
export function saltFor(resumeKey: Uint8Array, examId: string, studentId: string, index: number): Uint8Array {
  checkIndex(index);
  return mac(resumeKey, `salt|${field(examId)}|${field(studentId)}|${index}`).slice(0, RESUME_SALT_BYTES);
}

/**
 * Triple `index` for the examinee's device: the challenge, its salt and the slow hash of its
 * resume code.
 * @param pbkdf2 the PBKDF2 to use (node:crypto's on the appliance, so it runs off the main thread)
 */
export async function tripleFor(
  resumeKey: Uint8Array,
  examId: string,
  studentId: string,
  index: number,
  pbkdf2: Pbkdf2Sha256,
  iterations: number = RESUME_PBKDF2_ITERATIONS,
): Promise<ResumeTriple> {
  const challenge = challengeFor(resumeKey, examId, studentId, index);
  const salt = saltFor(resumeKey, examId, studentId, index);
  const code = resumeCodeFor(resumeKey, examId, studentId, challenge);
  const hash = await pbkdf2(utf8ToBytes(code), salt, iterations, RESUME_HASH_BYTES);
  return { challenge, salt: bytesToHex(salt), hash: bytesToHex(hash), iterations };
}

/**
 * What the device does when a resume code is typed: true when it is the code for the triple's
 * challenge. Malformed text is false without running PBKDF2.
 */
export async function verifyResumeCodeOffline(
  triple: ResumeTriple,
  typedCode: string,
  pbkdf2: Pbkdf2Sha256,
): Promise<boolean> {
  const code = parseResumeCode(typedCode);
  if (code === undefined) return false;
  const hash = await pbkdf2(utf8ToBytes(code), hexToBytes(triple.salt), triple.iterations, RESUME_HASH_BYTES);
  return constantTimeEqualHex(bytesToHex(hash), triple.hash.toLowerCase());
}

const mac = (key: Uint8Array, message: string): Uint8Array => hmac(sha256, key, utf8ToBytes(message));

/** Ids are the fields of the MAC'd text; a "|" in one would make two inputs collide. */
function field(id: string): string {
  if (id.includes('|')) throw new TypeError(`resume codes: id "${id}" contains "|"`);
  return id;
}

function checkIndex(index: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= RESUME_CHALLENGES_PER_EXAMINEE) {
    throw new RangeError(`resume codes: challenge index ${index} is not 0..${RESUME_CHALLENGES_PER_EXAMINEE - 1}`);
  }
}
