/**
 * A chief proctor confirms the appliance's time on an untrusted clock, or sets it from their
 * device's time (POST /api/proctor/clock). Either is recorded as a `clock-confirmed` event in every
 * exam's log, with the offset before and after, so the audit trail says who vouched for the time.
 */
import { refuse, type Result } from '../../../domain/errors.js';
import type { HallStore } from '../store/hall-store.js';
import type { ClockSource, ClockTrust } from './clock-trust.js';

export type ClockAction = { action: 'confirm' } | { action: 'set'; now: number };

/** The appliance's time after the action, as GET /api/time gives it. */
export interface ClockReading {
  now: number;
  iso: string;
  trusted: boolean;
  source: ClockSource;
}

export class ClockService {
  constructor(
    private readonly clock: ClockTrust,
    private readonly store: HallStore,
    /** Told how far the clock moved when a chief sets it (proctor sessions move with it). */
    private readonly onShift: (deltaMs: number) => void = () => undefined,
  ) {}

  /** Confirms or sets the clock for `username`; refused when NTP already synchronises it (set only). */
  async vouch(request: ClockAction, username: string): Promise<Result<ClockReading>> {
    const previousOffsetMs = this.clock.status().offsetMs;
    if (request.action === 'set') {
      const done = await this.clock.set(request.now, username);
      if (!done.ok) return refuse('clock-synchronised', `source: ${done.status.source}`);
    } else await this.clock.confirm(username);
    const status = this.clock.status();
    if (status.offsetMs !== previousOffsetMs) this.onShift(status.offsetMs - previousOffsetMs);
    await Promise.all(
      [...this.store.projection.exams.keys()].map(
        (examId) =>
          this.store.record(examId, [
            {
              kind: 'clock-confirmed',
              actor: { role: 'proctor', username },
              data: { action: request.action, offsetMs: status.offsetMs, previousOffsetMs },
            },
          ]).durable,
      ),
    );
    const now = this.clock.now();
    return { ok: true, now, iso: new Date(now).toISOString(), trusted: status.trusted, source: status.source };
  }
}
