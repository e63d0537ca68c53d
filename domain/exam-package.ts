/**
 * The exam package an examinee downloads before the start: its format, declared once for the
 * appliance that builds it (appliance/src/crypto/exam-package.ts, Node crypto) and the app that
 * opens it (client/src/shared/exam-package.ts, WebCrypto).
 *
 * Format "exam-package/v1" (JSON):
 *   { format, examId, examVersion,
 *     kdf:    { name: "PBKDF2", hash: "SHA-256", iterations, salt (base64) },
 *     cipher: { name: "AES-256-GCM", iv (base64, 12 bytes) },
 *     ciphertext (base64: AES-GCM output with the 16-byte tag appended, as WebCrypto makes it) }
 * The plaintext is the canonical JSON of the exam as examinees see it (ExamForExaminees: no
 * answer keys, no Safe Exam Browser settings); the additional authenticated data is
 * "exam-package/v1|<examId>|<examVersion>". The key is released by the appliance at the official
 * start (base64, 32 bytes), or is PBKDF2-HMAC-SHA256 of the exam password a proctor reads out,
 * normalised (upper case, no spaces or dashes), with the package's salt and iterations.
 */
import type { ExamFile, ExamSettings, Question } from './exam-format.js';

export const PACKAGE_FORMAT = 'exam-package/v1';

/** The package as downloaded (GET /api/exam/package). */
export interface ExamPackage {
  format: typeof PACKAGE_FORMAT;
  examId: string;
  examVersion: string;
  kdf: { name: 'PBKDF2'; hash: 'SHA-256'; iterations: number; salt: string };
  cipher: { name: 'AES-256-GCM'; iv: string };
  ciphertext: string;
}

/** The additional authenticated data of a package: it binds the ciphertext to its exam and version. */
export const packageAdditionalData = (examId: string, examVersion: string): string =>
  `${PACKAGE_FORMAT}|${examId}|${examVersion}`;

/** How an exam password is typed: upper case, no spaces or dashes, before PBKDF2. */
export const normaliseExamPassword = (password: string): string => password.toUpperCase().replace(/[\s-]/g, '');

/** A question as examinees see it: without its answer key. */
export type ExamineeQuestion = Question extends infer Q
  ? Q extends unknown
    ? Omit<Q, 'answerKey'> & { answerKey?: never }
    : never
  : never;

/**
 * The package's plaintext, and the proctors' preview: the exam without answer keys or Safe Exam
 * Browser settings (domain/answers.ts examForExaminees makes it).
 */
export type ExamForExaminees = Omit<ExamFile, 'settings' | 'sections'> & {
  settings: Omit<ExamSettings, 'safeExamBrowser'> & { safeExamBrowser?: never };
  sections: (Omit<ExamFile['sections'][number], 'questions'> & { questions: ExamineeQuestion[] })[];
};
