/**
 * Answers: the answer file an examinee submits, its canonical serialisation and SHA-256, how
 * many questions it answers, and the grading of closed questions.
 *
 * Answer file spec (format "answers/v1"): a JSON object
 *   { "format": "answers/v1", "examId": "...", "studentId": "...",
 *     "answers": { "<questionId>": <value>, ... }, "flagged": ["<questionId>", ...] }
 * with one value per answered question, by type:
 *   single-choice: option id (string)      multiple-choice: option ids (array, any order)
 *   true-false: boolean                    numeric: number
 *   short-text, essay: string              file: [{ "sha256", "name", "size" }]
 * The canonical form (canonicalAnswerFile) sorts multiple-choice ids, de-duplicates and sorts
 * `flagged`, NFC-normalises text and drops empty answers; its UTF-8 bytes are what is submitted,
 * hashed (SHA-256) and signed in the receipt.
 */
import { refuse, type Result } from './errors.js';
import type { ExamFile, Question } from './exam-format.js';
import type { ExamForExaminees, ExamineeQuestion } from './exam-package.js';
import { isEmptyAnswer as isEmpty, serialiseAnswerFile } from './answer-sheet.js';
import type { AnswerFile, AnswerValue } from './answer-types.js';

export {
  answerFileSha256,
  answerSheetId,
  canonicalAnswerFile,
  countWords,
  isEmptyAnswer,
  serialiseAnswerFile,
  type AnswerSheet,
} from './answer-sheet.js';
export { ANSWER_FILE_FORMAT, MAX_TEXT_ANSWER_LENGTH } from './answer-format.js';
export {
  answerFileSchema,
  answersSchema,
  answerValueSchema,
  type AnswerFile,
  type AnswerValue,
  type FileRef,
} from './answer-types.js';

/** Every question of an exam, in order. */
export function examQuestions(exam: Pick<ExamFile, 'sections'>): Question[] {
  return exam.sections.flatMap((s) => s.questions);
}

function fits(q: Question, v: AnswerValue): boolean {
  switch (q.type) {
    case 'single-choice':
      return typeof v === 'string' && q.options.some((o) => o.id === v);
    case 'multiple-choice':
      return Array.isArray(v) && v.every((x) => typeof x === 'string' && q.options.some((o) => o.id === x));
    case 'true-false':
      return typeof v === 'boolean';
    case 'numeric':
      return typeof v === 'number';
    case 'short-text':
      return typeof v === 'string' && v.length <= q.maxLength;
    case 'essay':
      // The word limit is the examinee's to keep (the field counts, and turns red over it), not a
      // reason to refuse: an essay refused at autosave would stop every answer from being saved.
      return typeof v === 'string';
    case 'file':
      return (
        Array.isArray(v) &&
        v.length <= q.maxFiles &&
        v.every((f) => typeof f === 'object' && f.size <= q.maxBytes && acceptsName(q.accept, f.name))
      );
  }
}

function acceptsName(accept: readonly string[], name: string): boolean {
  if (accept.length === 0) return true;
  const ext = name.includes('.') ? name.slice(name.lastIndexOf('.') + 1).toLowerCase() : '';
  return accept.includes(ext);
}

/** Checks that an answer file belongs to this exam and examinee and answers real questions. */
export function answersFitExam(
  file: AnswerFile,
  exam: Pick<ExamFile, 'examId' | 'sections'>,
  studentId: string,
): Result<Record<never, never>> {
  if (file.examId !== exam.examId) return refuse('invalid-answer-file', 'examId is not this exam');
  if (file.studentId !== studentId) return refuse('invalid-answer-file', 'studentId is not yours');
  const byId = new Map(examQuestions(exam).map((q) => [q.id, q]));
  for (const [id, v] of Object.entries(file.answers)) {
    const q = byId.get(id);
    if (!q) return refuse('invalid-answer-file', `"${id}" is not a question of this exam`);
    if (!isEmpty(v) && !fits(q, v))
      return refuse(
        'invalid-answer-file',
        `the answer to "${id}" does not fit ${/^[aeiou]/.test(q.type) ? 'an' : 'a'} ${q.type} question`,
      );
  }
  for (const id of file.flagged) {
    if (!byId.has(id)) return refuse('invalid-answer-file', `flagged "${id}" is not a question of this exam`);
  }
  return { ok: true };
}

/** How many questions have a non-empty answer, and of how many. */
export function answeredCount(
  exam: Pick<ExamFile, 'sections'>,
  answers: Record<string, AnswerValue>,
): { answered: number; total: number } {
  const questions = examQuestions(exam);
  const answered = questions.filter((q) => {
    const v = answers[q.id];
    return v !== undefined && !isEmpty(v);
  }).length;
  return { answered, total: questions.length };
}

/** The score of closed questions (those with an answer key). */
export interface ClosedScore {
  score: number;
  /** Points available in questions that have an answer key. */
  maxScore: number;
  /** Points per graded question id. */
  byQuestion: Record<string, number>;
}

/** Grades the closed questions that carry an answer key; open questions are left to a person. */
export function gradeClosedQuestions(
  exam: Pick<ExamFile, 'sections'>,
  answers: Record<string, AnswerValue>,
): ClosedScore {
  let score = 0;
  let maxScore = 0;
  const byQuestion: Record<string, number> = {};
  for (const q of examQuestions(exam)) {
    const points = gradeQuestion(q, answers[q.id]);
    if (points === undefined) continue;
    maxScore += q.points;
    score += points;
    byQuestion[q.id] = points;
  }
  return { score: round2(score), maxScore: round2(maxScore), byQuestion };
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/** Points for one question; undefined when it has no answer key. */
export function gradeQuestion(q: Question, v: AnswerValue | undefined): number | undefined {
  switch (q.type) {
    case 'single-choice':
      if (q.answerKey === undefined) return undefined;
      return v === q.answerKey ? q.points : 0;
    case 'true-false':
      if (q.answerKey === undefined) return undefined;
      return v === q.answerKey ? q.points : 0;
    case 'numeric':
      if (q.answerKey === undefined) return undefined;
      return typeof v === 'number' && Math.abs(v - q.answerKey.value) <= q.answerKey.tolerance + 1e-12 ? q.points : 0;
    case 'short-text': {
      const key = q.answerKey;
      if (key === undefined) return undefined;
      if (typeof v !== 'string') return 0;
      const norm = (s: string) => {
        const t = s.normalize('NFC').trim().replace(/\s+/gu, ' ');
        return key.caseSensitive ? t : t.toLowerCase();
      };
      return key.accepted.some((a) => norm(a) === norm(v)) ? q.points : 0;
    }
    case 'multiple-choice': {
      if (q.answerKey === undefined) return undefined;
      const chosen = new Set(
        Array.isArray(v) ? (v as unknown[]).filter((x): x is string => typeof x === 'string') : [],
      );
      const right = new Set(q.answerKey);
      if (q.scoring === 'all-or-nothing') {
        return chosen.size === right.size && [...chosen].every((c) => right.has(c)) ? q.points : 0;
      }
      if (right.size === 0) return chosen.size === 0 ? q.points : 0;
      const per = q.points / right.size;
      let hits = 0;
      let misses = 0;
      for (const c of chosen) {
        if (right.has(c)) hits++;
        else misses++;
      }
      return Math.max(0, (hits - misses) * per);
    }
    case 'essay':
    case 'file':
      return undefined;
  }
}

/**
 * The exam as examinees receive it: everything but the answer keys and the Safe Exam Browser
 * settings (the SEB quit password and the allowed keys must not reach an examinee's device).
 */
export function examForExaminees(exam: ExamFile): ExamForExaminees {
  const { safeExamBrowser: _seb, ...settings } = exam.settings;
  return {
    ...exam,
    settings,
    sections: exam.sections.map((s) => ({
      ...s,
      questions: s.questions.map((q) => {
        if (!('answerKey' in q)) return q as ExamineeQuestion;
        const { answerKey: _key, ...rest } = q;
        return rest as ExamineeQuestion;
      }),
    })),
  };
}

/**
 * Whether `text` is exactly the canonical serialisation of `file` (`serialiseAnswerFile(file) ===
 * text`), where `raw` is what JSON.parse made of `text` and `file` what the schema made of `raw`.
 *
 * The usual answer file is canonical already; then it is checked without building a second
 * serialisation (for a 200 KB essay, a few copies of the essay and most of the check's time):
 * when every key is in order and every value is in its canonical form, the canonical
 * serialisation is JSON.stringify's own form of `raw`, which is compared with the text. Anything
 * else is decided by serialising, as before.
 */
export function isCanonicalAnswerFileText(text: string, raw: unknown, file: AnswerFile): boolean {
  if (valuesLookCanonical(raw) && JSON.stringify(raw) === text) return true;
  return serialiseAnswerFile(file) === text;
}

const TOP_LEVEL_KEYS = ['answers', 'examId', 'flagged', 'format', 'studentId'];
const FILE_REF_KEYS = ['name', 'sha256', 'size'];

/** Keys sorted and every value canonical already (see isCanonicalAnswerFileText). */
function valuesLookCanonical(raw: unknown): boolean {
  if (!isPlainObject(raw) || !hasKeys(raw, TOP_LEVEL_KEYS)) return false;
  const { answers, flagged } = raw;
  if (!isPlainObject(answers) || !Array.isArray(flagged) || !sortedUniqueStrings(flagged)) return false;
  let previous: string | undefined;
  for (const [id, v] of Object.entries(answers)) {
    if (previous !== undefined && !(previous < id)) return false;
    previous = id;
    if (typeof v === 'boolean' || typeof v === 'number') continue;
    if (typeof v === 'string') {
      if (isEmpty(v) || v.normalize('NFC') !== v) return false;
    } else if (Array.isArray(v) && v.length > 0) {
      if (v.every((x) => typeof x === 'string')) {
        if (!sortedUniqueStrings(v)) return false;
      } else if (!v.every((x) => isPlainObject(x) && hasKeys(x, FILE_REF_KEYS))) return false;
    } else return false;
  }
  return true;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function hasKeys(o: Record<string, unknown>, keys: readonly string[]): boolean {
  const own = Object.keys(o);
  return own.length === keys.length && own.every((k, i) => k === keys[i]);
}

/** Strings in UTF-16 code unit order without repeats (canonicalJson's and Array#sort's order). */
function sortedUniqueStrings(list: readonly unknown[]): boolean {
  for (let i = 0; i < list.length; i++) {
    const x = list[i];
    if (typeof x !== 'string') return false;
    if (i > 0 && !((list[i - 1] as string) < x)) return false;
  }
  return true;
}
