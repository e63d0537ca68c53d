/**
 * The exam and roster formats (docs/exam-format.md explains every field with an example).
 *
 * An exam file is JSON; a roster is CSV or JSON. Both are validated with these schemas at the
 * edge (the import CLI, the institution's publish CLI); inside, code trusts the types.
 */
import { z } from 'zod';
import { CODE_ALPHABET, normaliseAccessCode } from './codes.js';
import { HARDWARE_CHECKS, PROCTORING_TYPES, SNAPSHOT_INTERVAL_SECONDS, VERIFICATION_MODES } from './exam-options.js';

// Moved to the zod-free codes.ts (the examinee app uses them); exported here as before.
export { CODE_ALPHABET, normaliseAccessCode };

/** Version of the exam file format this code reads. */
export const EXAM_FORMAT_VERSION = 1;

/** Every stored document carries this schema version. */
export const SCHEMA_VERSION = 1;

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const id = (what: string) =>
  z.string().regex(ID, `${what} must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`);
const isoTime = z.iso.datetime({
  offset: true,
  message: 'must be an ISO 8601 time with a zone, e.g. 2026-06-01T09:00:00Z',
});
const text = (max: number) => z.string().trim().min(1).max(max);
const SEMVER = /^\d+\.\d+\.\d+$/;

const option = z.strictObject({ id: id('option id'), text: text(2_000) });

const questionBase = {
  id: id('question id'),
  prompt: text(20_000),
  points: z.number().min(0).max(1_000),
};

const singleChoice = z.strictObject({
  ...questionBase,
  type: z.literal('single-choice'),
  options: z.array(option).min(2).max(26),
  answerKey: id('answer key').optional(),
});
const multipleChoice = z.strictObject({
  ...questionBase,
  type: z.literal('multiple-choice'),
  options: z.array(option).min(2).max(26),
  answerKey: z.array(id('answer key')).optional(),
  /** all-or-nothing: full points only for exactly the right set; partial: per right option, minus per wrong one. */
  scoring: z.enum(['all-or-nothing', 'partial']).default('all-or-nothing'),
});
const trueFalse = z.strictObject({
  ...questionBase,
  type: z.literal('true-false'),
  answerKey: z.boolean().optional(),
});
const numeric = z.strictObject({
  ...questionBase,
  type: z.literal('numeric'),
  answerKey: z.strictObject({ value: z.number(), tolerance: z.number().min(0).default(0) }).optional(),
});
const shortText = z.strictObject({
  ...questionBase,
  type: z.literal('short-text'),
  maxLength: z.number().int().min(1).max(1_000).default(200),
  answerKey: z
    .strictObject({
      accepted: z.array(text(1_000)).min(1),
      caseSensitive: z.boolean().default(false),
    })
    .optional(),
});
const essay = z.strictObject({
  ...questionBase,
  type: z.literal('essay'),
  maxWords: z.number().int().min(1).max(100_000).optional(),
});
const fileAnswer = z.strictObject({
  ...questionBase,
  type: z.literal('file'),
  /** Accepted file name extensions, without the dot, e.g. ["pdf", "xlsx"]. Empty means any. */
  accept: z.array(z.string().regex(/^[a-z0-9]{1,10}$/)).default([]),
  maxBytes: z
    .number()
    .int()
    .min(1)
    .max(100 * 1024 * 1024)
    .default(20 * 1024 * 1024),
  maxFiles: z.number().int().min(1).max(20).default(1),
});

/** A question of any type. Closed questions may carry an answer key (never sent to examinees). */
export const questionSchema = z.discriminatedUnion('type', [
  singleChoice,
  multipleChoice,
  trueFalse,
  numeric,
  shortText,
  essay,
  fileAnswer,
]);
export type Question = z.infer<typeof questionSchema>;
export type QuestionType = Question['type'];

const section = z.strictObject({
  id: id('section id'),
  title: text(500),
  instructions: z.string().max(20_000).optional(),
  questions: z.array(questionSchema).min(1).max(1_000),
});

const sebKey = z
  .string()
  .regex(/^[0-9A-Fa-f]{64}$/, 'must be 64 hexadecimal digits')
  .transform((key) => key.toLowerCase());
const distinct = (keys: string[]) => new Set(keys).size === keys.length;

/**
 * Safe Exam Browser (docs/safe-exam-browser.md). When `required`, every examinee request must
 * prove an allowed SEB setup: the Config Key of the .seb file the appliance generates for the exam
 * is always allowed (so a hall needs no key copying), plus any keys listed here, e.g. the Config
 * Key of the hall's own .seb file or the Browser Exam Keys of its SEB installations.
 */
export const safeExamBrowserSchema = z
  .strictObject({
    required: z.boolean().default(false),
    browserExamKeys: z.array(sebKey).max(100).refine(distinct, 'keys must be distinct').default([]),
    configKeys: z.array(sebKey).max(100).refine(distinct, 'keys must be distinct').default([]),
    /** Quit password of the generated .seb file; SEB keeps only its SHA-256. */
    quitPassword: z.string().min(1).max(200).optional(),
  })
  .superRefine((seb, ctx) => {
    // Keys are only checked when SEB is required: listing them without it is a forgotten switch.
    if (!seb.required && (seb.browserExamKeys.length > 0 || seb.configKeys.length > 0)) {
      ctx.addIssue({
        code: 'custom',
        path: ['required'],
        message:
          'must be true when browserExamKeys or configKeys are listed (keys are only checked when SEB is required)',
      });
    }
  });
export type SafeExamBrowserSettings = z.infer<typeof safeExamBrowserSchema>;

/** Proctoring snapshots: what the examinee's device photographs, how often, and what it tells them. */
export const proctoringSchema = z.strictObject({
  type: z.enum(PROCTORING_TYPES).default('none'),
  intervalSeconds: z
    .number()
    .int()
    .min(SNAPSHOT_INTERVAL_SECONDS.min)
    .max(SNAPSHOT_INTERVAL_SECONDS.max)
    .default(SNAPSHOT_INTERVAL_SECONDS.default),
  /** Shown to the examinee before and while snapshots are taken; a plain default when absent. */
  consentText: text(2_000).optional(),
  /**
   * A device that refuses the camera (or has none) is reported to the proctors and the exam goes
   * on; with true, the questions stay hidden until the camera is allowed.
   */
  cameraRequired: z.boolean().default(false),
});
export type ProctoringSettings = z.infer<typeof proctoringSchema>;

/** The settings an exam carries; defaults are what most halls want. */
export const examSettingsSchema = z.strictObject({
  /** Lock the exam (continuation code) when the page is reloaded during the exam. */
  lockOnReload: z.boolean().default(true),
  /** Lock the exam when the examinee leaves full screen. */
  requireFullscreen: z.boolean().default(false),
  /** Minutes before the official start when examinees may sign in (the lobby). */
  lobbyMinutes: z
    .number()
    .int()
    .min(0)
    .max(24 * 60)
    .default(30),
  /** Until when a submission is accepted: the examinee's own deadline, or the upload deadline. */
  acceptSubmissionsUntil: z.enum(['examinee-deadline', 'upload-deadline']).default('upload-deadline'),
  /** Seconds of network slack after the examinee's deadline for a submission started in time. */
  submissionGraceSeconds: z.number().int().min(0).max(3_600).default(60),
  /** Largest answer file accepted (the answers document, not file-question uploads). */
  maxAnswerFileBytes: z
    .number()
    .int()
    .min(1_024)
    .max(50 * 1024 * 1024)
    .default(5 * 1024 * 1024),
  /** Hardware checks the client performs before the start; proctors may disable some. */
  hardwareChecks: z.array(z.enum(HARDWARE_CHECKS)).default([]),
  /** Safe Exam Browser; absent means not required. */
  safeExamBrowser: safeExamBrowserSchema.optional(),
  /** Proctoring snapshots (none unless the exam asks); proctors may change the type and the interval. */
  proctoring: proctoringSchema.default(() => proctoringSchema.parse({})),
});
export type ExamSettings = z.infer<typeof examSettingsSchema>;

/** An exam file as the institution writes it. */
export const examFileSchema = z
  .strictObject({
    formatVersion: z.literal(EXAM_FORMAT_VERSION),
    examId: id('examId'),
    title: text(300),
    assessmentType: text(100),
    scheduledStart: isoTime,
    durationMinutes: z
      .number()
      .int()
      .min(1)
      .max(24 * 60),
    downloadWindow: z.strictObject({ opens: isoTime, closes: isoTime }),
    uploadDeadline: isoTime.optional(),
    minimumClientVersion: z.string().regex(SEMVER, 'must look like 1.2.3'),
    lateLoginMinutes: z
      .number()
      .int()
      .min(0)
      .max(24 * 60),
    verificationMode: z.enum(VERIFICATION_MODES),
    settings: examSettingsSchema.default(() => examSettingsSchema.parse({})),
    sections: z.array(section).min(1).max(100),
  })
  .superRefine((exam, ctx) => {
    const opens = Date.parse(exam.downloadWindow.opens);
    const closes = Date.parse(exam.downloadWindow.closes);
    const start = Date.parse(exam.scheduledStart);
    if (closes <= opens) {
      ctx.addIssue({
        code: 'custom',
        path: ['downloadWindow', 'closes'],
        message: 'must be after downloadWindow.opens',
      });
    }
    if (opens > start) {
      ctx.addIssue({ code: 'custom', path: ['downloadWindow', 'opens'], message: 'must not be after scheduledStart' });
    }
    if (exam.uploadDeadline !== undefined && Date.parse(exam.uploadDeadline) < start + exam.durationMinutes * 60_000) {
      ctx.addIssue({
        code: 'custom',
        path: ['uploadDeadline'],
        message: 'must not be before the end of the exam (scheduledStart + durationMinutes)',
      });
    }
    const seen = new Map<string, string>();
    exam.sections.forEach((s, si) => {
      if (seen.has(s.id))
        ctx.addIssue({ code: 'custom', path: ['sections', si, 'id'], message: `duplicate id "${s.id}"` });
      seen.set(s.id, 'section');
      s.questions.forEach((q, qi) => {
        const at = ['sections', si, 'questions', qi];
        if (seen.has(q.id)) ctx.addIssue({ code: 'custom', path: [...at, 'id'], message: `duplicate id "${q.id}"` });
        seen.set(q.id, 'question');
        if (q.type === 'single-choice' || q.type === 'multiple-choice') {
          const optionIds = new Set(q.options.map((o) => o.id));
          if (optionIds.size !== q.options.length) {
            ctx.addIssue({ code: 'custom', path: [...at, 'options'], message: 'option ids must be unique' });
          }
          const keys = q.answerKey === undefined ? [] : Array.isArray(q.answerKey) ? q.answerKey : [q.answerKey];
          keys.forEach((k) => {
            if (!optionIds.has(k))
              ctx.addIssue({ code: 'custom', path: [...at, 'answerKey'], message: `"${k}" is not one of the options` });
          });
        }
      });
    });
  });
export type ExamFile = z.infer<typeof examFileSchema>;

/** One examinee on the roster, as the institution writes it (the access code in clear). */
export const rosterEntrySchema = z.strictObject({
  studentId: id('studentId'),
  name: text(200),
  email: z.email().max(254).optional(),
  phone: z
    .string()
    .regex(/^\+?[0-9 ()-]{3,32}$/, 'must be a phone number (digits, spaces, + ( ) -)')
    .optional(),
  maxDownloads: z.number().int().min(0).max(100).default(2),
  accommodationPercent: z.number().int().min(0).max(400).default(0),
  /** At least 12 characters (60 bits) from the unambiguous alphabet; see generateAccessCode. */
  accessCode: z
    .string()
    .transform((s) => normaliseAccessCode(s))
    .pipe(
      z.string().regex(/^[0-9A-HJKMNP-TV-Z]{12,32}$/, 'must be 12-32 characters of 0-9 and A-Z without I, L, O, U'),
    ),
  seat: z.string().max(32).optional(),
  /**
   * The institution's examinee identifier when it differs from the sign-in id (ExamSoft's
   * "Examinee ID", a candidate number): shown to proctors in its own column, never used to sign in.
   */
  examineeId: z.string().trim().min(1).max(64).optional(),
});
export type RosterEntry = z.infer<typeof rosterEntrySchema>;

/**
 * Makes an access code of `length` characters (5 bits each; 12 gives 60 bits).
 * @param randomBytes the random source (crypto in the appliance, a seeded one in tests)
 */
export function generateAccessCode(randomBytes: (n: number) => Uint8Array, length = 12): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += CODE_ALPHABET[b & 31];
  return out;
}

/** The exam document stored in the hall database (`exam:<examId>`), owned by the institution. */
export interface ExamDoc extends ExamFile {
  _id: string;
  _rev?: string;
  type: 'exam';
  schemaVersion: number;
  /** SHA-256 of the canonical exam file: changes whenever the institution changes the exam. */
  version: string;
}

/** The roster document (`examinee:<examId>:<studentId>`), owned by the institution. */
export interface ExamineeDoc extends Omit<RosterEntry, 'accessCode'> {
  _id: string;
  _rev?: string;
  type: 'examinee';
  schemaVersion: number;
  examId: string;
  /** See accessCodeHash() in access-code.ts. */
  accessCodeHash: string;
}

export const examDocId = (examId: string) => `exam:${examId}`;
export const examineeDocId = (examId: string, studentId: string) => `examinee:${examId}:${studentId}`;
