/**
 * Presence: an examinee is connected while their event stream is open or they were heard from
 * within the timeout; otherwise, after the timeout, they become "disconnected" in the monitor,
 * and connected again when they come back. Each change is a 'presence-changed' event.
 *
 * It also answers "what did the appliance see of the device at its deadline?" (domain/time-up.ts)
 * exactly, in constant memory: what is seen changes only at a request, a stream opening or a
 * stream closing, so just before the first of these after the deadline the state is still the
 * state at the deadline, and it is kept then (`atDeadline`); with no change since, the current
 * state is the answer. After a restart nothing is known of the time before it (unseen).
 */
import type { PresenceAtDeadline } from '../../domain/time-up.js';
import type { HallStore } from './store/hall-store.js';

interface Tracked {
  examId: string;
  studentId: string;
  streams: number;
  lastContact: number;
  /** The last request (or stream open or close) actually heard, unlike lastContact which starts at tracking. */
  heardAt: number | undefined;
  /** The state at the examinee's deadline, kept at the first change after it. */
  atDeadline: (PresenceAtDeadline & { deadline: number }) | undefined;
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
      t = {
        examId,
        studentId,
        streams: 0,
        lastContact: this.store.clock.now(),
        heardAt: undefined,
        atDeadline: undefined,
      };
      this.tracked.set(k, t);
    }
    return t;
  }

  /** The examinee's deadline now (it moves with extensions), if on the roster. */
  private deadlineOf(t: Tracked): number | undefined {
    const exam = this.store.projection.exams.get(t.examId);
    const entry = this.store.projection.examinee(t.examId, t.studentId);
    return exam && entry ? this.store.projection.timeline(exam, entry).deadline : undefined;
  }

  /** Before a change at `now`: keeps the state at a deadline that has passed since the last change. */
  private beforeChange(t: Tracked, now: number): void {
    const deadline = this.deadlineOf(t);
    if (deadline === undefined || now <= deadline || t.atDeadline?.deadline === deadline) return;
    t.atDeadline = { deadline, lastSeen: t.heardAt, streamOpen: t.streams > 0 };
  }

  private heard(t: Tracked, change: () => void): void {
    const now = this.store.clock.now();
    this.beforeChange(t, now);
    change();
    t.lastContact = now;
    t.heardAt = now;
  }

  /** Any authenticated request from the examinee's device. */
  contact(examId: string, studentId: string): void {
    const t = this.get(examId, studentId);
    this.heard(t, () => undefined);
    this.markConnected(t, true);
  }

  /** The examinee's event stream opened; call the returned function when it closes. */
  open(examId: string, studentId: string): () => void {
    const t = this.get(examId, studentId);
    this.heard(t, () => t.streams++);
    this.markConnected(t, true);
    let closed = false;
    return () => {
      if (closed) return;
      closed = true;
      this.heard(t, () => t.streams--);
    };
  }

  /**
   * What the appliance saw of the examinee's device at `deadline` (a deadline that has passed);
   * undefined when nothing is known (not heard from since the appliance started).
   */
  atDeadline(examId: string, studentId: string, deadline: number): PresenceAtDeadline | undefined {
    const t = this.tracked.get(this.key(examId, studentId));
    if (!t) return undefined;
    if (t.atDeadline?.deadline === deadline)
      return { lastSeen: t.atDeadline.lastSeen, streamOpen: t.atDeadline.streamOpen };
    // No change since the deadline (a change after it would have kept the state): the state now is the state then.
    if (t.heardAt !== undefined && t.heardAt > deadline) return undefined;
    return { lastSeen: t.heardAt, streamOpen: t.streams > 0 };
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
