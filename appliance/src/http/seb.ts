/**
 * Safe Exam Browser at the edge: the .seb configuration the appliance generates for an exam, and the
 * middleware that refuses examinee requests without valid SEB headers when the exam requires SEB.
 * The rules themselves (request hashes, Config Key, the check) are in domain/seb.ts; the hall's
 * side is in docs/safe-exam-browser.md.
 *
 * Spec of the generated .seb file: an unencrypted XML property list (SEB opens a plain-XML .seb
 * as it opens Moodle's generated ones, moodle/moodle mod/quiz/accessrule/seb/classes/helper.php
 * `send_seb_config_file`, Content-Type application/seb) whose root dictionary holds an exam profile:
 *  - startURL: the examinee app at the address the .seb was downloaded from, with `?exam=<examId>`;
 *  - sendBrowserExamKey: true, so SEB sends both hash headers (SEB's "Use Browser & Config Keys");
 *  - hashedQuitPassword: SHA-256 hex of the exam's quit password, when it has one;
 *  - a URL filter that allows only the appliance's host (the hall is offline anyway);
 *  - reload allowed with a warning (a reload may lock the exam until a proctor gives a resume code),
 *    Wi-Fi control shown (examinees must be able to rejoin the hall network after a drop), spell
 *    check off, camera / microphone / file upload only when the exam needs them.
 * Every key is a documented SEB setting made of letters only and every string is free of '"', '\\'
 * and control characters, so all SEB clients compute the same Config Key for it (see domain/seb.ts).
 * Moodle's generated configuration (quiz_settings.php `process_seb_config_manually`) is the model.
 *
 * The appliance always accepts the Config Key of the .seb it generates for the exam at the address
 * of the request, so a hall can run SEB without copying any key; the exam file may allow more keys.
 */
import type { Context, Env, MiddlewareHandler } from 'hono';
import type { ExamFile } from '../../../domain/exam-format.js';
import {
  checkSebHeaders,
  compareSebKeys,
  CONFIG_KEY_HASH_HEADER,
  REQUEST_HASH_HEADER,
  sebConfigKey,
  sebPasswordHash,
  toBase64,
  type SebConfigDict,
  type SebCheck,
  type SebConfigValue,
  type SebRefusalReason,
} from '../../../domain/seb.js';
import { sendRefusal } from './responses.js';

/** The keys an exam accepts, the generated configuration's Config Key included. */
export interface SebSettings {
  browserExamKeys: readonly string[];
  configKeys: readonly string[];
}

/** Media type of .seb files, as SEB registers it and Moodle serves it. */
export const SEB_MEDIA_TYPE = 'application/seb';

/** The absolute URL of this request as SEB hashed it (the Host header is authoritative: no proxy). */
export function absoluteRequestUrl(c: Context): string {
  const url = new URL(c.req.url);
  url.hash = '';
  return url.href;
}

/** The examinee app's address as this request reached the appliance, e.g. `https://hall-a.local/`. */
export function examineeAppUrl(c: Context): string {
  return `${new URL(c.req.url).origin}/`;
}

/** The settings dictionary of the exam's .seb file, for the examinee app at `examineeAppUrl`. */
export function buildSebConfig(exam: ExamFile, examineeAppUrl: string): SebConfigDict {
  const app = new URL(examineeAppUrl);
  const start = new URL(app.href);
  start.search = '';
  start.hash = '';
  start.searchParams.set('exam', exam.examId);
  const seb = exam.settings.safeExamBrowser;
  const questions = exam.sections.flatMap((s) => s.questions);
  const checks = exam.settings.hardwareChecks;
  return {
    startURL: start.href,
    // 0: this file starts an exam (1 would reconfigure the SEB client itself).
    sebConfigPurpose: 0,
    sendBrowserExamKey: true,
    allowQuit: true,
    quitURLConfirm: true,
    ...(seb?.quitPassword === undefined ? {} : { hashedQuitPassword: sebPasswordHash(seb.quitPassword) }),
    browserWindowAllowReload: true,
    showReloadButton: true,
    showReloadWarning: true,
    showTaskBar: true,
    showTime: true,
    showInputLanguage: true,
    allowWlan: true,
    allowSpellCheck: false,
    allowDownUploads: questions.some((q) => q.type === 'file'),
    allowVideoCapture: exam.verificationMode === 'camera' || checks.includes('camera'),
    allowAudioCapture: checks.includes('microphone'),
    URLFilterEnable: true,
    URLFilterEnableContentFilter: false,
    // action 1 = allow; a plain (not regex) expression naming the host matches all its paths.
    URLFilterRules: [{ action: 1, active: true, expression: app.host, regex: false }],
  };
}

// The Config Key is asked for on every examinee request of an exam that requires SEB: keep it per
// exam document (replaced, hence forgotten, whenever the exam changes) and address.
const configKeys = new WeakMap<ExamFile, Map<string, string>>();

/** The Config Key of the .seb file the appliance generates for `exam` at `examineeAppUrl`. */
export function configKeyOf(exam: ExamFile, examineeAppUrl: string): string {
  let byUrl = configKeys.get(exam);
  if (byUrl === undefined) {
    byUrl = new Map();
    configKeys.set(exam, byUrl);
  }
  let key = byUrl.get(examineeAppUrl);
  if (key === undefined) {
    key = sebConfigKey(buildSebConfig(exam, examineeAppUrl));
    if (byUrl.size >= 16) byUrl.clear();
    byUrl.set(examineeAppUrl, key);
  }
  return key;
}

/**
 * What the exam accepts at this address, or undefined when it does not require SEB: its Browser
 * Exam Keys, and the generated configuration's Config Key before the ones it lists.
 */
export function sebSettingsFor(exam: ExamFile, examineeAppUrl: string): SebSettings | undefined {
  const seb = exam.settings.safeExamBrowser;
  if (seb === undefined || !seb.required) return undefined;
  return {
    browserExamKeys: seb.browserExamKeys,
    configKeys: [configKeyOf(exam, examineeAppUrl), ...seb.configKeys],
  };
}

/** What the proctor dashboard shows about an exam's SEB setup at this address. */
export interface SebConfigInfo {
  required: boolean;
  /** Where SEB opens the exam: the examinee app at this address. */
  startURL: string;
  /** The Config Key of the generated .seb file (shown in SEB's settings as well). */
  configKey: string;
  /** Further keys the exam file allows. */
  allowedConfigKeys: readonly string[];
  allowedBrowserExamKeys: readonly string[];
  /** The quit password proctors type to let an examinee leave SEB, if the exam has one. */
  quitPassword: string | null;
  fileName: string;
}

export function sebConfigInfo(exam: ExamFile, examineeAppUrl: string): SebConfigInfo {
  const seb = exam.settings.safeExamBrowser;
  const config = buildSebConfig(exam, examineeAppUrl);
  return {
    required: seb?.required ?? false,
    startURL: String(config['startURL']),
    configKey: configKeyOf(exam, examineeAppUrl),
    allowedConfigKeys: seb?.configKeys ?? [],
    allowedBrowserExamKeys: seb?.browserExamKeys ?? [],
    quitPassword: seb?.quitPassword ?? null,
    fileName: sebConfigFileName(exam),
  };
}

/** The download name of an exam's .seb file (exam ids are letters, digits, '.', '_' and '-'). */
export function sebConfigFileName(exam: ExamFile): string {
  return `${exam.examId}.seb`;
}

/** Answers with the exam's .seb file for the examinee app at the address of this request. */
export function sendSebConfig(c: Context, exam: ExamFile): Response {
  const plist = sebConfigPlist(buildSebConfig(exam, examineeAppUrl(c)));
  return c.body(plist, 200, {
    'content-type': SEB_MEDIA_TYPE,
    'content-disposition': `attachment; filename="${sebConfigFileName(exam)}"`,
    'cache-control': 'no-store',
  });
}

/**
 * Checks this request's SEB headers against `settings`, for handlers that learn the exam only
 * inside (sign-in): the same check as {@link requireSebFor}.
 */
export function sebCheckFor(c: Context, settings: SebSettings): SebCheck {
  return checkSebHeaders(
    {
      url: absoluteRequestUrl(c),
      requestHash: c.req.header(REQUEST_HASH_HEADER),
      configKeyHash: c.req.header(CONFIG_KEY_HASH_HEADER),
    },
    settings,
  );
}

/** Called for every refused request, e.g. to record a 'seb-refused' event. */
export type SebRefusedHandler<E extends Env> = (
  c: Context<E>,
  reason: SebRefusalReason,
  detail: string,
) => Promise<void>;

/**
 * Middleware: when `getExamSettings` says the request's exam requires SEB, the request must carry
 * an `X-SafeExamBrowser-RequestHash` or `X-SafeExamBrowser-ConfigKeyHash` made for its own
 * absolute URL with an allowed key; otherwise `onRefused` is called and the answer is 403
 * `seb-required` with a detail saying which check failed. Exams that do not require SEB pass.
 */
export function requireSebFor<E extends Env = Env>(
  getExamSettings: (c: Context<E>) => SebSettings | undefined,
  onRefused: SebRefusedHandler<E>,
): MiddlewareHandler<E> {
  return async (c, next) => {
    const settings = getExamSettings(c);
    if (settings === undefined) {
      await next();
      return;
    }
    const check = sebCheckFor(c, settings);
    if (!check.ok) {
      await onRefused(c, check.reason, check.detail);
      c.header('cache-control', 'no-store');
      return sendRefusal(c, 'seb-required', check.detail);
    }
    await next();
  };
}

/**
 * The XML property list text of a .seb file holding `settings` (keys in SEB-JSON order, tabs for
 * indentation, as SEB's own editors write them).
 * @throws TypeError on values a property list cannot hold (a programming error)
 */
export function sebConfigPlist(settings: SebConfigDict): string {
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<plist version="1.0">',
  ];
  writePlistValue(settings, 0, lines);
  lines.push('</plist>', '');
  return lines.join('\n');
}

function writePlistValue(value: SebConfigValue, depth: number, lines: string[]): void {
  const pad = '\t'.repeat(depth);
  if (typeof value === 'boolean') lines.push(`${pad}<${value ? 'true' : 'false'}/>`);
  else if (typeof value === 'string') lines.push(`${pad}<string>${xmlText(value)}</string>`);
  else if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('.seb: numbers must be finite');
    lines.push(Number.isSafeInteger(value) ? `${pad}<integer>${value}</integer>` : `${pad}<real>${value}</real>`);
  } else if (value instanceof Uint8Array) lines.push(`${pad}<data>${toBase64(value)}</data>`);
  else if (Array.isArray(value)) {
    const items = value as readonly SebConfigValue[];
    if (items.length === 0) {
      lines.push(`${pad}<array/>`);
      return;
    }
    lines.push(`${pad}<array>`);
    for (const item of items) writePlistValue(item, depth + 1, lines);
    lines.push(`${pad}</array>`);
  } else if (typeof value === 'object' && value !== null) {
    const dict = value as SebConfigDict;
    const keys = Object.keys(dict)
      .filter((k) => dict[k] !== undefined)
      .sort(compareSebKeys);
    if (keys.length === 0) {
      lines.push(`${pad}<dict/>`);
      return;
    }
    lines.push(`${pad}<dict>`);
    for (const key of keys) {
      lines.push(`${pad}\t<key>${xmlText(key)}</key>`);
      writePlistValue(dict[key] as SebConfigValue, depth + 1, lines);
    }
    lines.push(`${pad}</dict>`);
  } else throw new TypeError(`.seb: unsupported value ${String(value)}`);
}

// XML 1.0 allows tab, line feed, carriage return and everything from U+0020 on (minus surrogates
// and U+FFFE/U+FFFF, which a JS string of valid text does not hold).
// eslint-disable-next-line no-control-regex
const XML_FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

function xmlText(text: string): string {
  if (XML_FORBIDDEN.test(text)) throw new TypeError('.seb: text with a character XML cannot hold');
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}
