import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { examQuestions } from '../../../domain/answers.js';
import { hashJson, type Json } from '../../../domain/canonical.js';
import { DEMO_EXAM_FILE } from '../demo.js';
import { parseExamFile } from '../../../domain/exam-import.js';
import { buildExamPackage, deriveExamKey, newExamSecret, openExamPackage } from './exam-package.js';

async function demoExam() {
  const parsed = parseExamFile(await readFile(DEMO_EXAM_FILE, 'utf8'));
  if (!parsed.ok) throw new Error('demo exam does not parse');
  return parsed.exam;
}

/** Every piece of text an examinee must not see before the start. */
function secretTexts(exam: Awaited<ReturnType<typeof demoExam>>): string[] {
  const texts: string[] = [];
  for (const s of exam.sections) {
    texts.push(s.title);
    if (s.instructions) texts.push(s.instructions);
  }
  for (const q of examQuestions(exam)) {
    texts.push(q.prompt);
    if ('options' in q) texts.push(...q.options.map((o) => o.text));
  }
  return texts.filter((t) => t.length >= 4);
}

describe('exam package', () => {
  it('contains no question, option or section text in any encoding before the key is released', async () => {
    const exam = await demoExam();
    const secret = await newExamSecret();
    const pkg = buildExamPackage(exam, hashJson(exam as unknown as Json), secret);
    const bytes = Buffer.from(JSON.stringify(pkg), 'utf8');
    const ciphertext = Buffer.from(pkg.ciphertext, 'base64');
    const texts = secretTexts(exam);
    expect(texts.length).toBeGreaterThan(20);
    for (const text of texts) {
      for (const needle of [text, text.slice(0, 12)]) {
        expect(bytes.includes(Buffer.from(needle, 'utf8')), needle).toBe(false);
        expect(ciphertext.includes(Buffer.from(needle, 'utf8')), needle).toBe(false);
        expect(
          bytes.includes(Buffer.from(Buffer.from(needle).toString('base64').slice(0, 12))),
          `base64 of ${needle}`,
        ).toBe(false);
      }
    }
    expect(bytes.includes(Buffer.from(secret.password))).toBe(false);
    expect(bytes.includes(Buffer.from(secret.key))).toBe(false);
  });

  it('opens with the released key or the exam password, without answer keys', async () => {
    const exam = await demoExam();
    const secret = await newExamSecret();
    const pkg = buildExamPackage(exam, 'v1', secret);
    const opened = openExamPackage(pkg, Buffer.from(secret.key, 'base64'));
    expect(opened.sections.map((s) => s.id)).toEqual(exam.sections.map((s) => s.id));
    expect(JSON.stringify(opened)).not.toContain('answerKey');
    const typed = await deriveExamKey(
      secret.password.toLowerCase().replace(/-/g, ' '),
      Buffer.from(pkg.kdf.salt, 'base64'),
      pkg.kdf.iterations,
    );
    expect(openExamPackage(pkg, typed).title).toBe(exam.title);
  });

  it('refuses a wrong key and a package whose header or bytes were changed', async () => {
    const exam = await demoExam();
    const secret = await newExamSecret();
    const pkg = buildExamPackage(exam, 'v1', secret);
    const key = Buffer.from(secret.key, 'base64');
    expect(() => openExamPackage(pkg, randomBytes(32))).toThrow();
    expect(() => openExamPackage({ ...pkg, examVersion: 'v2' }, key)).toThrow();
    const flipped = Buffer.from(pkg.ciphertext, 'base64');
    flipped[10] = (flipped[10] ?? 0) ^ 1;
    expect(() => openExamPackage({ ...pkg, ciphertext: flipped.toString('base64') }, key)).toThrow();
  });
});
