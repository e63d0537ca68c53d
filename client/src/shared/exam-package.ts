/**
 * Opening the exam package in the browser with WebCrypto (format "exam-package/v1", specified in
 * domain/exam-package.ts, built by appliance/src/crypto/exam-package.ts): the key the appliance
 * releases at the official start is imported as it is; the exam password a proctor reads out is
 * normalised and derived with PBKDF2-HMAC-SHA256 and the package's salt and iterations.
 */
import {
  normaliseExamPassword,
  PACKAGE_FORMAT,
  packageAdditionalData,
  type ExamForExaminees,
  type ExamineeQuestion,
  type ExamPackage,
} from '../../../domain/exam-package.js';
// The package and its plaintext are declared once, in domain/exam-package.ts.
export type { ExamForExaminees, ExamineeQuestion, ExamPackage };

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
export async function openPackage(pkg: ExamPackage, key: AesKey): Promise<ExamForExaminees> {
  let plain: ArrayBuffer;
  try {
    plain = await crypto.subtle.decrypt(
      {
        name: 'AES-GCM',
        iv: decodeBase64(pkg.cipher.iv),
        additionalData: new TextEncoder().encode(packageAdditionalData(pkg.examId, pkg.examVersion)),
        tagLength: 128,
      },
      key,
      decodeBase64(pkg.ciphertext),
    );
  } catch {
    throw new WrongKeyError('the key does not open this package');
  }
  return JSON.parse(new TextDecoder().decode(plain)) as ExamForExaminees;
}
