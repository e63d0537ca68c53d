/**
 * Local-only secrets (never replicated): the appliance id, the session-signing key, the
 * receipt-signing Ed25519 key pair and each exam's password and package key. Kept in
 * `<dataDir>/secrets.json` with mode 0600, written atomically and durably.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { examSecretSchema, type ExamSecret } from '../crypto/exam-secret.js';
import { writeFileDurably } from './fs-durable.js';

const secretsSchema = z.object({
  schemaVersion: z.literal(1),
  applianceId: z.string(),
  sessionKey: z.string(),
  receiptPrivateKeyPem: z.string(),
  receiptPublicKeyPem: z.string(),
  exams: z.record(z.string(), examSecretSchema),
});
export type Secrets = z.infer<typeof secretsSchema>;

export class SecretStore {
  private constructor(
    private readonly file: string,
    private secrets: Secrets,
  ) {}

  /** Loads the secrets, creating them (and the appliance id) on the first start. */
  static async open(dataDir: string): Promise<SecretStore> {
    const file = path.join(dataDir, 'secrets.json');
    let text: string | undefined;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (text !== undefined) return new SecretStore(file, secretsSchema.parse(JSON.parse(text)));
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const secrets: Secrets = {
      schemaVersion: 1,
      // Short, readable and unique enough for one institution: it is part of every event id.
      applianceId: `box-${randomBytes(5).toString('hex')}`,
      sessionKey: randomBytes(32).toString('base64'),
      receiptPrivateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      receiptPublicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      exams: {},
    };
    const store = new SecretStore(file, secrets);
    await store.save();
    return store;
  }

  get value(): Readonly<Secrets> {
    return this.secrets;
  }

  examSecret(examId: string): ExamSecret | undefined {
    return this.secrets.exams[examId];
  }

  async setExamSecret(examId: string, secret: ExamSecret): Promise<void> {
    this.secrets = { ...this.secrets, exams: { ...this.secrets.exams, [examId]: secret } };
    await this.save();
  }

  /** Adds verification passwords to an exam that already has its secret. */
  async addVerificationPasswords(examId: string, passwords: string[]): Promise<void> {
    const secret = this.secrets.exams[examId];
    if (!secret) throw new Error(`no secret for exam ${examId}`);
    await this.setExamSecret(examId, {
      ...secret,
      verificationPasswords: [...(secret.verificationPasswords ?? []), ...passwords],
    });
  }

  private save(): Promise<void> {
    return writeFileDurably(this.file, `${JSON.stringify(this.secrets, null, 2)}\n`, 0o600);
  }
}
