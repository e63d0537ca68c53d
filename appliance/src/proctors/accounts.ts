/**
 * Proctor accounts: local to the appliance (never replicated), in `<dataDir>/proctors.json`
 * (mode 0600, written atomically and durably), passwords hashed with argon2id. The file is
 * re-read when it changes, so `appliance proctor add` works while the appliance runs.
 */
import { mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { hash, verify } from '@node-rs/argon2';
import { z } from 'zod';
import { PROCTOR_ROLES, type ProctorRole } from '../../../domain/proctor-roles.js';
import { writeFileDurably } from '../store/fs-durable.js';

export { PROCTOR_ROLES, type ProctorRole };

export const USERNAME = /^[a-z0-9][a-z0-9._-]{1,31}$/;
export const MIN_PASSWORD_LENGTH = 10;

const accountSchema = z.object({
  username: z.string().regex(USERNAME),
  displayName: z.string().min(1).max(100),
  role: z.enum(PROCTOR_ROLES),
  passwordHash: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type ProctorAccount = z.infer<typeof accountSchema>;
const fileSchema = z.object({ schemaVersion: z.literal(1), proctors: z.array(accountSchema) });

/** A proctor as the rest of the appliance sees one (no hash). */
export interface Proctor {
  username: string;
  displayName: string;
  role: ProctorRole;
}

export class AccountError extends Error {}

// A password hash to verify against when the user does not exist, so a wrong username costs the
// same time as a wrong password (no user enumeration by timing).
let dummyHash: Promise<string> | undefined;

export class ProctorAccounts {
  private cache: { mtimeMs: number; accounts: ProctorAccount[] } | undefined;

  constructor(private readonly dataDir: string) {}

  get file(): string {
    return path.join(this.dataDir, 'proctors.json');
  }

  async list(): Promise<ProctorAccount[]> {
    let mtimeMs: number;
    try {
      mtimeMs = (await stat(this.file)).mtimeMs;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    if (this.cache?.mtimeMs === mtimeMs) return this.cache.accounts;
    const accounts = fileSchema.parse(JSON.parse(await readFile(this.file, 'utf8'))).proctors;
    this.cache = { mtimeMs, accounts };
    return accounts;
  }

  private async save(accounts: ProctorAccount[]): Promise<void> {
    await mkdir(this.dataDir, { recursive: true, mode: 0o700 });
    await writeFileDurably(this.file, `${JSON.stringify({ schemaVersion: 1, proctors: accounts }, null, 2)}\n`, 0o600);
    this.cache = undefined;
  }

  async add(
    input: { username: string; displayName?: string; role: ProctorRole; password: string },
    now: Date,
  ): Promise<void> {
    if (!USERNAME.test(input.username))
      throw new AccountError('the username must be 2-32 of a-z, 0-9, . _ -, starting with a letter or digit');
    checkPassword(input.password);
    const accounts = await this.list();
    if (accounts.some((a) => a.username === input.username))
      throw new AccountError(`"${input.username}" already exists (use passwd to change the password)`);
    const at = now.toISOString();
    await this.save([
      ...accounts,
      {
        username: input.username,
        displayName: input.displayName ?? input.username,
        role: input.role,
        passwordHash: await hash(input.password),
        createdAt: at,
        updatedAt: at,
      },
    ]);
  }

  async setPassword(username: string, password: string, now: Date): Promise<void> {
    checkPassword(password);
    const accounts = await this.list();
    if (!accounts.some((a) => a.username === username)) throw new AccountError(`no proctor "${username}"`);
    const passwordHash = await hash(password);
    await this.save(
      accounts.map((a) => (a.username === username ? { ...a, passwordHash, updatedAt: now.toISOString() } : a)),
    );
  }

  async remove(username: string): Promise<void> {
    const accounts = await this.list();
    if (!accounts.some((a) => a.username === username)) throw new AccountError(`no proctor "${username}"`);
    await this.save(accounts.filter((a) => a.username !== username));
  }

  /** The proctor when the password is right; otherwise undefined, in about the same time. */
  async authenticate(username: string, password: string): Promise<Proctor | undefined> {
    const account = (await this.list()).find((a) => a.username === username);
    if (!account) {
      dummyHash ??= hash('not a password of anyone');
      await verify(await dummyHash, password).catch(() => false);
      return undefined;
    }
    const good = await verify(account.passwordHash, password).catch(() => false);
    return good ? { username: account.username, displayName: account.displayName, role: account.role } : undefined;
  }

  async find(username: string): Promise<Proctor | undefined> {
    const a = (await this.list()).find((x) => x.username === username);
    return a && { username: a.username, displayName: a.displayName, role: a.role };
  }
}

function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH)
    throw new AccountError(`the password must have at least ${MIN_PASSWORD_LENGTH} characters`);
  if (password.length > 256) throw new AccountError('the password is too long');
}

/** Demo accounts created with the demo exam (PROCTOR_DEMO); printed at start, listed in the README. */
export const DEMO_PROCTORS = [
  { username: 'chief', displayName: 'Chief Proctor (demo)', role: 'chief', password: 'chief-demo-pass' },
  {
    username: 'invigilator',
    displayName: 'Invigilator (demo)',
    role: 'invigilator',
    password: 'invigilator-demo-pass',
  },
] as const;
