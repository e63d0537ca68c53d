/**
 * An exam's secret: its password and the package key derived from it (./exam-package.ts makes
 * and uses it). Kept in the local secrets (../store/secrets.ts), never replicated.
 */
import { z } from 'zod';

export const examSecretSchema = z.object({
  /** Read out by the proctor for a start without network; derives the package key. */
  password: z.string(),
  salt: z.string(),
  iterations: z.number().int(),
  /** base64 AES-256 key = PBKDF2(password, salt, iterations). */
  key: z.string(),
  /** Passwords proctors generated for password verification (Exam info tab). */
  verificationPasswords: z.array(z.string()).optional(),
});
export type ExamSecret = z.infer<typeof examSecretSchema>;
