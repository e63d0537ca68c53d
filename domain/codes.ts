/**
 * Hand-typed codes (access codes, exam passwords, resume codes and their challenges): the
 * alphabet they are written in and how typed text is normalised. Kept apart from exam-format.ts,
 * which needs zod, so that the examinee app can check codes without shipping a schema library.
 */

/** Crockford's base32 alphabet: no I, L, O, U, so a code read aloud or handwritten survives. */
export const CODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** Access codes are typed by hand: ignore case, spaces and dashes, and read O/I/L as 0/1/1. */
export function normaliseAccessCode(code: string): string {
  return code.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
}
