/**
 * Exam packages and keys: each exam gets a password and package key on first use (kept in the
 * local secrets), and its encrypted package is built once per exam version and kept in memory.
 */
import { buildExamPackage, newExamSecret } from './crypto/exam-package.js';
import type { ExamPackage } from '../../domain/exam-package.js';
import type { ExamDoc } from '../../domain/exam-format.js';
import { KeyedLock } from './keyed-lock.js';
import type { ExamSecret } from './crypto/exam-secret.js';
import type { SecretStore } from './store/secrets.js';

export class ExamPackages {
  private readonly cache = new Map<string, { version: string; pkg: ExamPackage; bytes: Buffer }>();
  private readonly lock = new KeyedLock();

  constructor(private readonly secrets: SecretStore) {}

  /** The exam's secret, created on first use. */
  secret(examId: string): Promise<ExamSecret> {
    const existing = this.secrets.examSecret(examId);
    if (existing) return Promise.resolve(existing);
    return this.lock.run(examId, async () => {
      const again = this.secrets.examSecret(examId);
      if (again) return again;
      const created = await newExamSecret();
      await this.secrets.setExamSecret(examId, created);
      return created;
    });
  }

  /** The package bytes (JSON) for the exam's current version. */
  async packageFor(exam: ExamDoc): Promise<{ pkg: ExamPackage; bytes: Buffer }> {
    const cached = this.cache.get(exam.examId);
    if (cached && cached.version === exam.version) return cached;
    const secret = await this.secret(exam.examId);
    const pkg = buildExamPackage(exam, exam.version, secret);
    const entry = { version: exam.version, pkg, bytes: Buffer.from(JSON.stringify(pkg), 'utf8') };
    this.cache.set(exam.examId, entry);
    return entry;
  }
}
