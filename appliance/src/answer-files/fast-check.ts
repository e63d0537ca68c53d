/**
 * The fast path of the answer-file check (./check.ts) for the usual file: canonical already, its
 * bulk in essays of plain text. It reads the bytes as they are, in canonical form's one layout
 *
 *   {"answers":{...},"examId":"…","flagged":[…],"format":"answers/v1","studentId":"…"}
 *
 * and never decodes a long essay into a string: it counts the essay's length, words and blank
 * characters on the bytes. For a storm of 1,000 answer files of 200 KB that is most of the CPU
 * and the garbage of checking them.
 *
 * It only ever says "accepted" (with the summary the full check would give) or "not sure": any
 * file it does not recognise as canonical, and any doubt (a \u escape, characters outside Latin-1
 * in a long essay, a long string that is not an essay), goes to the full check, which decides and
 * words every refusal. So it can make the check faster, never different (answer-files tests).
 */
import {
  answeredCount,
  answerFileSchema,
  answersFitExam,
  examQuestions,
  gradeClosedQuestions,
  type FileRef,
} from '../../../domain/answers.js';
import { MAX_TEXT_ANSWER_LENGTH } from '../../../domain/answer-sheet.js';
import type { AnswerFileSummary, ExamForCheck } from './summary.js';

/** Strings up to this many bytes are decoded like any JSON string; longer ones are only measured. */
const SHORT_STRING_BYTES = 256;
/** The schema's limit on an answer string (UTF-16 code units). */
const MAX_ANSWER_CHARS = MAX_TEXT_ANSWER_LENGTH;

const enum Byte {
  Quote = 0x22,
  Backslash = 0x5c,
  Comma = 0x2c,
  Colon = 0x3a,
  OpenBrace = 0x7b,
  CloseBrace = 0x7d,
  OpenBracket = 0x5b,
  CloseBracket = 0x5d,
}

/**
 * What a byte is to the scan of a string (see Reader.string), as bits, so that the usual byte
 * (ASCII, a space, a Latin-1 letter's two bytes) takes no branch: SPACE for white space, UNIT
 * when it starts a character (not a UTF-8 continuation byte), SPECIAL for the rest (the closing
 * quote, a backslash, a control character, U+0080–U+00BF's lead byte C2, whose A0 is a space,
 * and lead bytes beyond Latin-1).
 */
const SPACE = 1;
const UNIT = 2;
const SPECIAL = 4;

/** Four bytes C3 xx C3 xx (xx a continuation byte), as a little-endian word masked with 0xc0ffc0ff. */
const LATIN1_LETTER_PAIR = 0x80c380c3 | 0;

const BYTE_BITS = (() => {
  const t = new Uint8Array(256);
  for (let c = 0; c < 256; c++) {
    if (c < 0x20 || c === Byte.Quote || c === Byte.Backslash || c === 0xc2 || c >= 0xc4) t[c] = SPECIAL;
    else if (c === 0x20) t[c] = SPACE | UNIT;
    else if (c >= 0x80 && c < 0xc0)
      t[c] = 0; // continuation: counted with its lead byte
    else t[c] = UNIT; // other ASCII; C3, the lead byte of U+00C0–U+00FF (letters, × and ÷)
  }
  return t;
})();

/** A long string, measured on its bytes: what the schema, the word limit and the count need. */
interface LongString {
  long: true;
  /** Length in UTF-16 code units, as String#length. */
  units: number;
  words: number;
  blank: boolean;
}

type Value = string | number | boolean | LongString | Value[] | { [key: string]: Value };

/** Thrown inside the reader when the file is not one it recognises: the full check decides. */
class NotSure extends Error {}
const notSure = (): never => {
  throw new NotSure();
};

/** The summary when the file is canonical and fits the exam; undefined when the full check must decide. */
export function fastCheckAnswerFile(
  bytes: Uint8Array,
  exam: ExamForCheck,
  studentId: string,
): AnswerFileSummary | undefined {
  try {
    return new Reader(bytes).answerFile(exam, studentId);
  } catch (err) {
    if (err instanceof NotSure) return undefined;
    throw err;
  }
}

class Reader {
  private p = 0;
  private readonly text: (start: number, end: number) => string;

  private readonly b: Uint8Array;
  /** The same bytes, read four at a time in the scan of a long string. */
  private readonly words: DataView;

  constructor(bytes: Uint8Array) {
    // A plain Uint8Array view: V8 reads its elements faster than a Buffer's in the scan.
    this.b = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.words = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.text = (start, end) => buffer.toString('utf8', start, end);
  }

  answerFile(exam: ExamForCheck, studentId: string): AnswerFileSummary {
    this.literal('{"answers":{');
    const answers: Record<string, Value> = {};
    const long = new Map<string, LongString>();
    let previous: string | undefined;
    if (!this.take(Byte.CloseBrace)) {
      do {
        const id = this.shortString();
        // In key order, each once; "__proto__" is for the full check to refuse.
        if ((previous !== undefined && !(previous < id)) || id === '__proto__') notSure();
        previous = id;
        this.expect(Byte.Colon);
        const v = this.answerValue();
        if (isLong(v)) {
          long.set(id, v);
          // What the schema and the exam checks see in its place: a short answer that is not blank.
          answers[id] = 'x';
        } else answers[id] = v;
      } while (this.take(Byte.Comma));
      this.expect(Byte.CloseBrace);
    }
    this.literal(',"examId":');
    const examId = this.shortString();
    this.literal(',"flagged":');
    const flagged = this.stringArray();
    this.literal(',"format":"answers/v1","studentId":');
    const fileStudentId = this.shortString();
    this.expect(Byte.CloseBrace);
    if (this.p !== this.b.length) notSure();

    const raw = { format: 'answers/v1', examId, studentId: fileStudentId, answers, flagged };
    const parsed = answerFileSchema.safeParse(raw);
    if (!parsed.success) return notSure();
    if (!answersFitExam(parsed.data, exam, studentId).ok) return notSure();
    // The long strings: essays within the schema's length (a word limit refuses nothing).
    const questions = new Map(examQuestions(exam).map((q) => [q.id, q]));
    for (const [id, s] of long) {
      const q = questions.get(id);
      if (q?.type !== 'essay' || s.units > MAX_ANSWER_CHARS) notSure();
    }
    const fileAnswers: Record<string, FileRef[]> = {};
    for (const [id, v] of Object.entries(parsed.data.answers)) {
      if (Array.isArray(v) && v.some((x) => typeof x === 'object')) fileAnswers[id] = v as FileRef[];
    }
    const { score, maxScore } = gradeClosedQuestions(exam, parsed.data.answers);
    return { fileAnswers, score, maxScore, ...answeredCount(exam, parsed.data.answers) };
  }

  /** An answer in canonical form: never empty, choices sorted and unique, text in NFC. */
  private answerValue(): Value {
    const c = this.b[this.p];
    if (c === Byte.Quote) {
      const s = this.string();
      if (typeof s === 'string' ? s.trim() === '' : s.blank) notSure();
      return s;
    }
    if (c === Byte.OpenBracket) {
      if (this.b[this.p + 1] === Byte.Quote) return this.stringArray(true);
      this.p++;
      const refs: Value[] = [];
      do refs.push(this.fileRef());
      while (this.take(Byte.Comma));
      this.expect(Byte.CloseBracket);
      return refs;
    }
    if (this.startsWith('true')) {
      this.p += 4;
      return true;
    }
    if (this.startsWith('false')) {
      this.p += 5;
      return false;
    }
    return this.number();
  }

  /** `{"name":…,"sha256":…,"size":…}`, keys in canonical order. */
  private fileRef(): Value {
    this.literal('{"name":');
    const name = this.shortString();
    this.literal(',"sha256":');
    const sha256 = this.shortString();
    this.literal(',"size":');
    const size = this.number();
    this.expect(Byte.CloseBrace);
    return { name, sha256, size };
  }

  /** A number as JSON.stringify writes it (so not -0, 1.0, 1e3 or 01). */
  private number(): number {
    const start = this.p;
    while (this.p < this.b.length && isNumberByte(this.b[this.p]!)) this.p++;
    const token = this.text(start, this.p);
    const n = token === '' ? NaN : Number(token);
    if (!Number.isFinite(n) || JSON.stringify(n) !== token) notSure();
    return n;
  }

  /** `[…]` of short strings, sorted and unique; `nonEmpty` for a choice answer. */
  private stringArray(nonEmpty = false): string[] {
    this.expect(Byte.OpenBracket);
    const list: string[] = [];
    if (!this.take(Byte.CloseBracket)) {
      do {
        const s = this.shortString();
        if (list.length > 0 && !(list[list.length - 1]! < s)) notSure();
        list.push(s);
      } while (this.take(Byte.Comma));
      this.expect(Byte.CloseBracket);
    }
    if (nonEmpty && list.length === 0) notSure();
    return list;
  }

  private shortString(): string {
    const s = this.string();
    return typeof s === 'string' ? s : notSure();
  }

  /**
   * A string with JSON.stringify's escapes only (\" \\ \b \f \n \r \t; a \u escape is not sure).
   * A short one is decoded and must be in NFC; a long one is measured on its bytes and must hold
   * only ASCII and Latin-1 characters: none of them composes or reorders with a neighbour (all
   * are starters that NFC keeps as they are), so such a string is in NFC whatever its order.
   */
  private string(): string | LongString {
    const b = this.b;
    const n = b.length;
    const start = this.p;
    this.expect(Byte.Quote);
    // Locals, not fields, in the loop over every byte of an essay.
    let p = this.p;
    let units = 0;
    let words = 0;
    /** 1 after white space (and at the start), else 0: a word starts where it goes 1 → 0. */
    let afterSpace = 1;
    let latin1 = true;
    const dv = this.words;
    while (p < n) {
      if (p + 4 <= n) {
        // Four bytes at once (SWAR) while they are printable ASCII other than " and \: the bulk
        // of an essay. Any byte below 0x20, any " or \ (a zero byte after XOR), any byte from
        // 0x80: the bytes go one by one below.
        const w = dv.getUint32(p, true);
        const quote = w ^ 0x22222222;
        const backslash = w ^ 0x5c5c5c5c;
        const special =
          (((w - 0x20202020) & ~w) | ((quote - 0x01010101) & ~quote) | ((backslash - 0x01010101) & ~backslash) | w) &
          0x80808080;
        if (special === 0) {
          // 0x80 in each byte that is a space (exact: no carry crosses a byte).
          const x = w ^ 0x20202020;
          const space = ~(((x & 0x7f7f7f7f) + 0x7f7f7f7f) | x | 0x7f7f7f7f) & 0x80808080;
          // A word starts at a non-space byte after a space (or after the previous four bytes' last).
          const starts = ~space & ((space << 8) | (afterSpace << 7)) & 0x80808080;
          words += Math.imul((starts >>> 7) & 0x01010101, 0x01010101) >>> 24;
          afterSpace = space >>> 31;
          units += 4;
          p += 4;
          continue;
        }
        if ((w & 0xc0ffc0ff) === LATIN1_LETTER_PAIR) {
          // Two of U+00C0–U+00FF (C3 and a continuation byte, twice): letters, × and ÷, no space.
          words += afterSpace;
          afterSpace = 0;
          units += 2;
          p += 4;
          continue;
        }
      }
      const c = b[p]!;
      const k = BYTE_BITS[c]!;
      if ((k & SPECIAL) === 0) {
        const space = k & SPACE;
        words += afterSpace & (space ^ 1);
        afterSpace = space;
        units += k >> 1;
        p++;
        continue;
      }
      if (c === Byte.Quote) break;
      if (c === Byte.Backslash) {
        const e = b[p + 1];
        p += 2;
        units++;
        if (e === Byte.Quote || e === Byte.Backslash || e === 0x62) {
          // \" \\ \b
          words += afterSpace;
          afterSpace = 0;
        } else if (e === 0x74 || e === 0x6e || e === 0x72 || e === 0x66) {
          // \t \n \r \f: white space
          afterSpace = 1;
        } else return notSure();
      } else if (c < 0x20) {
        return notSure(); // JSON.stringify escapes it
      } else if (c === 0xc2) {
        // U+0080–U+00BF; U+00A0 (C2 A0) is the one white space of Latin-1. isUtf8 has checked
        // the sequences, so the next byte is its continuation.
        units++;
        if (b[p + 1] === 0xa0) afterSpace = 1;
        else {
          words += afterSpace;
          afterSpace = 0;
        }
        p += 2;
      } else {
        // The lead byte of a character beyond Latin-1 (its continuation bytes follow as usual).
        latin1 = false;
        words += afterSpace;
        afterSpace = 0;
        units += c >= 0xf0 ? 2 : 1;
        p++;
      }
    }
    if (p >= n) return notSure();
    p++; // the closing quote
    this.p = p;
    const end = p;
    if (end - start <= SHORT_STRING_BYTES) {
      const s = JSON.parse(this.text(start, end)) as string;
      if (end - start - 2 !== s.length && s.normalize('NFC') !== s) notSure(); // not all ASCII
      return s;
    }
    if (!latin1) notSure();
    return { long: true, units, words, blank: words === 0 };
  }

  private literal(s: string): void {
    if (!this.startsWith(s)) notSure();
    this.p += s.length;
  }

  private startsWith(s: string): boolean {
    if (this.p + s.length > this.b.length) return false;
    for (let i = 0; i < s.length; i++) if (this.b[this.p + i] !== s.charCodeAt(i)) return false;
    return true;
  }

  private expect(c: number): void {
    if (this.b[this.p] !== c) notSure();
    this.p++;
  }

  private take(c: number): boolean {
    if (this.b[this.p] !== c) return false;
    this.p++;
    return true;
  }
}

function isLong(v: Value): v is LongString {
  return typeof v === 'object' && !Array.isArray(v) && (v as { long?: unknown }).long === true;
}

/** Bytes a JSON number may have: - + . 0-9 e E */
function isNumberByte(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x65 || c === 0x45;
}
