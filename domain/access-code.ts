/**
 * Access codes are high-entropy (60 bits by default) and typed by hand; the roster stores only
 * `accessCodeHash` = hex SHA-256 of "access-code/v1|<examId>|<studentId>|<normalised code>".
 * High entropy makes a fast hash enough; binding exam and student in stops one hash being
 * reused for another examinee.
 */
import { sha256HexOfText } from './canonical.js';
import { normaliseAccessCode } from './codes.js';

/** The stored hash of an access code. */
export function accessCodeHash(examId: string, studentId: string, code: string): string {
  return sha256HexOfText(`access-code/v1|${examId}|${studentId}|${normaliseAccessCode(code)}`);
}

/** Compares two equal-length hex strings in time independent of where they differ. */
export function constantTimeEqualHex(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
