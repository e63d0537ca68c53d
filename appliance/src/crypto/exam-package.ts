/**
 * Building the exam package an examinee downloads before the start (format "exam-package/v1",
 * specified in domain/exam-package.ts), and opening it as the client does (for tests and checks).
 */
import { createCipheriv, createDecipheriv, pbkdf2, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { canonicalJson, type Json } from '../../../domain/canonical.js';
import { examForExaminees } from '../../../domain/answers.js';
import { CODE_ALPHABET, type ExamFile } from '../../../domain/exam-format.js';
import {
  normaliseExamPassword,
  PACKAGE_FORMAT,
  packageAdditionalData,
  type ExamForExaminees,
  type ExamPackage,
} from '../../../domain/exam-package.js';
import type { ExamSecret } from './exam-secret.js';

const pbkdf2Async = promisify(pbkdf2);

/** OWASP's figure for PBKDF2-HMAC-SHA256; a phone derives it in about a second. */
export const PBKDF2_ITERATIONS = 210_000;

/** Exam passwords: 12 characters of the access-code alphabet in groups of 4 (60 bits). */
export function generateExamPassword(): string {
  const bytes = randomBytes(12);
  const chars = [...bytes].map((b) => CODE_ALPHABET[b & 31]).join('');
  return `${chars.slice(0, 4)}-${chars.slice(4, 8)}-${chars.slice(8)}`;
}

export async function deriveExamKey(password: string, salt: Buffer, iterations: number): Promise<Buffer> {
  return pbkdf2Async(normaliseExamPassword(password), salt, iterations, 32, 'sha256');
}

/** Makes a new exam secret (password, salt, derived key). */
export async function newExamSecret(): Promise<ExamSecret> {
  const password = generateExamPassword();
  const salt = randomBytes(16);
  const key = await deriveExamKey(password, salt, PBKDF2_ITERATIONS);
  return { password, salt: salt.toString('base64'), iterations: PBKDF2_ITERATIONS, key: key.toString('base64') };
}

const aad = (examId: string, version: string) => Buffer.from(packageAdditionalData(examId, version), 'utf8');

/** Encrypts the examinee's view of the exam. */
export function buildExamPackage(exam: ExamFile, examVersion: string, secret: ExamSecret): ExamPackage {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(secret.key, 'base64'), iv);
  cipher.setAAD(aad(exam.examId, examVersion));
  const plaintext = Buffer.from(canonicalJson(examForExaminees(exam) as unknown as Json), 'utf8');
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return {
    format: PACKAGE_FORMAT,
    examId: exam.examId,
    examVersion,
    kdf: { name: 'PBKDF2', hash: 'SHA-256', iterations: secret.iterations, salt: secret.salt },
    cipher: { name: 'AES-256-GCM', iv: iv.toString('base64') },
    ciphertext: ciphertext.toString('base64'),
  };
}

/** Decrypts a package with a key (as the client does); throws when the key or bytes are wrong. */
export function openExamPackage(pkg: ExamPackage, key: Buffer): ExamForExaminees {
  const data = Buffer.from(pkg.ciphertext, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(pkg.cipher.iv, 'base64'));
  decipher.setAAD(aad(pkg.examId, pkg.examVersion));
  decipher.setAuthTag(data.subarray(data.length - 16));
  const plaintext = Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]);
  return JSON.parse(plaintext.toString('utf8')) as ExamForExaminees;
}
