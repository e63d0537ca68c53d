/**
 * Opening the exam package in the browser with WebCrypto (format "exam-package/v1", written by
 * appliance/src/crypto/exam-package.ts): AES-256-GCM with the 16-byte tag appended to the
 * ciphertext, additional data "exam-package/v1|<examId>|<examVersion>". The key is released by
 * the appliance at the official start (base64, 32 bytes), or derived from the exam password the
 * proctor reads out: PBKDF2-HMAC-SHA256 of the normalised password (upper case, no spaces or
 * dashes) with the package's salt and iterations.
 */
export const PACKAGE_FORMAT = 'exam-package/v1';

export interface ExamPackage {
  format: typeof PACKAGE_FORMAT;
  examId: string;
  examVersion: string;
  kdf: { name: 'PBKDF2'; hash: 'SHA-256'; iterations: number; salt: string };
  cipher: { name: 'AES-256-GCM'; iv: string };
  ciphertext: string;
}

interface Option {
  id: string;
  text: string;
}
interface QuestionBase {
  id: string;
  prompt: string;
  points: number;
}
/** A question as examinees see it (no answer keys). */
export type ExamQuestion =
  | (QuestionBase & { type: 'single-choice'; options: Option[] })
  | (QuestionBase & { type: 'multiple-choice'; options: Option[] })
  | (QuestionBase & { type: 'true-false' })
  | (QuestionBase & { type: 'numeric' })
  | (QuestionBase & { type: 'short-text'; maxLength?: number })
  | (QuestionBase & { type: 'essay'; maxWords?: number })
  | (QuestionBase & { type: 'file'; accept?: string[]; maxBytes?: number; maxFiles?: number });

export interface ExamContent {
  examId: string;
  title: string;
  durationMinutes: number;
  sections: { id: string; title: string; instructions?: string; questions: ExamQuestion[] }[];
}

/** A WebCrypto key (written this way so that the Node-side test of this file type-checks too). */
export type AesKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

/** The package is not one this client can open (a bad download or another format). */
export class PackageFormatError extends Error {}
/** The key or password does not open the package (or its bytes were changed). */
export class WrongKeyError extends Error {}

const decodeBase64 = (b64: string): Uint8Array<ArrayBuffer> => {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
};

/** Parses the downloaded bytes; throws PackageFormatError when they are not a v1 package. */
export function parsePackage(bytes: Uint8Array): ExamPackage {
  let pkg: unknown;
  try {
    pkg = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new PackageFormatError('the package is not JSON');
  }
  const p = pkg as Partial<ExamPackage> | null;
  if (
    typeof p !== 'object' ||
    p === null ||
    p.format !== PACKAGE_FORMAT ||
    typeof p.examId !== 'string' ||
    typeof p.examVersion !== 'string' ||
    typeof p.ciphertext !== 'string' ||
    typeof p.cipher?.iv !== 'string' ||
    typeof p.kdf?.salt !== 'string' ||
    typeof p.kdf.iterations !== 'number'
  ) {
    throw new PackageFormatError('not an exam-package/v1');
  }
  return p as ExamPackage;
}

/** How a password is typed: upper case, no spaces or dashes (as the appliance derives it). */
export const normaliseExamPassword = (p: string) => p.toUpperCase().replace(/[\s-]/g, '');

/** The AES key the appliance released (base64 of 32 bytes). */
export function importReleasedKey(base64Key: string): Promise<AesKey> {
  return crypto.subtle.importKey('raw', decodeBase64(base64Key), { name: 'AES-GCM' }, false, ['decrypt']);
}

/** The AES key from the exam password: PBKDF2-SHA256 with the package's salt and iterations. */
export async function keyFromPassword(pkg: ExamPackage, password: string): Promise<AesKey> {
  const material = await crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(normaliseExamPassword(password)),
    'PBKDF2',
    false,
    ['deriveKey'],
  );
  return crypto.subtle.deriveKey(
    { name: 'PBKDF2', hash: 'SHA-256', salt: decodeBase64(pkg.kdf.salt), iterations: pkg.kdf.iterations },
    material,
    { name: 'AES-GCM', length: 256 },
    false,
    ['decrypt'],
  );
}

/** Decrypts and parses the exam; throws WrongKeyError when the key does not open it. */
export async function openPackage(pkg: ExamPackage, key: AesKey): Promise<ExamContent> {
  let plain: ArrayBuffer;
  try {
    plain = await crypto.subtle.decrypt(
      {
        name: 'AES-GCM',
        iv: decodeBase64(pkg.cipher.iv),
        additionalData: new TextEncoder().encode(`${PACKAGE_FORMAT}|${pkg.examId}|${pkg.examVersion}`),
        tagLength: 128,
      },
      key,
      decodeBase64(pkg.ciphertext),
    );
  } catch {
    throw new WrongKeyError('the key does not open this package');
  }
  return JSON.parse(new TextDecoder().decode(plain)) as ExamContent;
}
