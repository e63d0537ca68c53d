/**
 * Presence: an examinee is connected while their event stream is open or they were heard from
 * within the timeout; otherwise, after the timeout, they become "disconnected" in the monitor,
 * and connected again when they come back. Each change is a 'presence-changed' event.
 */
import type { HallStore } from './store/hall-store.js';

interface Tracked {
  examId: string;
  studentId: string;
  streams: number;
  lastContact: number;
}

export class Presence {
  private readonly tracked = new Map<string, Tracked>();

  constructor(
    private readonly store: HallStore,
    readonly timeoutMs: number,
  ) {}

  private key(examId: string, studentId: string): string {
    return `${examId}|${studentId}`;
  }

  private get(examId: string, studentId: string): Tracked {
    const k = this.key(examId, studentId);
    let t = this.tracked.get(k);
    if (!t) {
      t = { examId, studentId, streams: 0, lastContact: this.store.clock.now() };
      this.tracked.set(k, t);
    }
    return t;
  }

  /** Any authenticated request from the examinee's device. */
  contact(examId: string, studentId: string): void {
    const t = this.get(examId, studentId);
    t.lastContact = this.store.clock.now();
    this.markConnected(t, true);
  }

  /** The examinee's event stream opened; call the returned function when it closes. */
  open(examId: string, studentId: string): () => void {
    const t = this.get(examId, studentId);
    t.streams++;
    t.lastContact = this.store.clock.now();
    this.markConnected(t, true);
    let closed = false;
    return () => {
      if (closed) return;
      closed = true;
      t.streams--;
      t.lastContact = this.store.clock.now();
    };
  }

  /** Marks examinees not heard from within the timeout as disconnected; call it periodically. */
  tick(): void {
    const now = this.store.clock.now();
    for (const t of this.tracked.values()) {
      if (t.streams === 0 && now - t.lastContact > this.timeoutMs) this.markConnected(t, false);
    }
  }

  /** Starts tracking everyone who was signed in before a restart, so they too can time out. */
  trackSignedIn(): void {
    for (const exam of this.store.projection.exams.values()) {
      for (const entry of exam.examinees.values()) {
        if (entry.doc && entry.state.deviceId !== undefined) this.get(exam.doc.examId, entry.state.studentId);
      }
    }
  }

  private markConnected(t: Tracked, connected: boolean): void {
    const entry = this.store.projection.examinee(t.examId, t.studentId);
    if (!entry || entry.state.deviceId === undefined || entry.state.connected === connected) return;
    void this.store
      .record(t.examId, [
        { kind: 'presence-changed', actor: { role: 'system' }, studentId: t.studentId, data: { connected } },
      ])
      .durable.catch(() => undefined);
  }
}
