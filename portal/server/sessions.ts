/**
 * The portal's sessions: a random 256-bit token in an HttpOnly, SameSite=Strict cookie names the
 * user's CouchDB session, which stays on the server. Memory only: a restart of the portal signs
 * everyone out (CouchDB's own session ends by its timeout).
 */
import { randomBytes } from 'node:crypto';
import type { CouchSession } from './couch.js';

export const PORTAL_COOKIE = 'portal_session';

interface Entry {
  couch: CouchSession;
  lastUsed: number;
}

export class PortalSessions {
  readonly #entries = new Map<string, Entry>();

  constructor(
    private readonly idleMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  start(couch: CouchSession): string {
    this.#sweep();
    const token = randomBytes(32).toString('base64url');
    this.#entries.set(token, { couch, lastUsed: this.now() });
    return token;
  }

  /** The session behind a token, refreshed; undefined when unknown or idle too long. */
  touch(token: string): CouchSession | undefined {
    const entry = this.#entries.get(token);
    if (!entry) return undefined;
    if (this.now() - entry.lastUsed > this.idleMs) {
      this.#entries.delete(token);
      return undefined;
    }
    entry.lastUsed = this.now();
    return entry.couch;
  }

  end(token: string): CouchSession | undefined {
    const entry = this.#entries.get(token);
    this.#entries.delete(token);
    return entry?.couch;
  }

  #sweep(): void {
    const now = this.now();
    for (const [token, entry] of this.#entries) if (now - entry.lastUsed > this.idleMs) this.#entries.delete(token);
  }
}
