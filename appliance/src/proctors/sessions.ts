/**
 * Proctor sessions: 128-bit random tokens (sent in a `__Host-` cookie), kept in memory by their
 * SHA-256; they expire after an idle time and an absolute lifetime (PROCTOR_SESSION_IDLE_MINUTES,
 * PROCTOR_SESSION_MAX_HOURS). Local only: a restart signs proctors out, which costs them a
 * sign-in and keeps no secret on disk.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../../../domain/clock.js';
import type { Proctor } from './accounts.js';

/** The defaults: 2 hours idle, 14 hours in all (an exam day). */
export const SESSION_IDLE_MS = 2 * 60 * 60_000;
export const SESSION_MAX_MS = 14 * 60 * 60_000;

export interface SessionLifetimes {
  idleMs: number;
  maxMs: number;
}

interface Session {
  proctor: Proctor;
  createdAt: number;
  lastSeen: number;
}

const digest = (token: string) => createHash('sha256').update(token).digest('hex');

export class ProctorSessions {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly clock: Clock,
    private readonly lifetimes: SessionLifetimes = { idleMs: SESSION_IDLE_MS, maxMs: SESSION_MAX_MS },
  ) {}

  private expired(s: Session, now: number): boolean {
    return now - s.lastSeen > this.lifetimes.idleMs || now - s.createdAt > this.lifetimes.maxMs;
  }

  create(proctor: Proctor): string {
    const token = randomBytes(16).toString('base64url');
    const now = this.clock.now();
    this.sessions.set(digest(token), { proctor, createdAt: now, lastSeen: now });
    this.sweep(now);
    return token;
  }

  /**
   * The session's proctor, refreshing its idle timer; 'expired' the first time a session past its
   * lifetime is used (then it is gone); undefined when unknown.
   */
  touch(token: string): Proctor | 'expired' | undefined {
    if (token.length > 64) return undefined;
    const key = digest(token);
    const s = this.sessions.get(key);
    if (!s) return undefined;
    const now = this.clock.now();
    // A clock set back (an NTP correction) expires nothing; only time going forward does.
    if (this.expired(s, now)) {
      this.sessions.delete(key);
      return 'expired';
    }
    s.lastSeen = Math.max(s.lastSeen, now);
    return s.proctor;
  }

  /**
   * The appliance's clock moved by `deltaMs` (a chief set it): every live session moves with it,
   * so setting the clock forward by hours signs nobody out, and back extends nobody's lifetime.
   */
  shift(deltaMs: number): void {
    for (const s of this.sessions.values()) {
      s.createdAt += deltaMs;
      s.lastSeen += deltaMs;
    }
  }

  end(token: string): void {
    this.sessions.delete(digest(token));
  }

  /** Ends every session of a proctor (account removed or password changed). */
  endAllOf(username: string): void {
    for (const [k, s] of this.sessions) if (s.proctor.username === username) this.sessions.delete(k);
  }

  private sweep(now: number): void {
    for (const [k, s] of this.sessions) {
      if (this.expired(s, now)) this.sessions.delete(k);
    }
  }
}
