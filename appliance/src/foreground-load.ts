/**
 * How busy the hall keeps the appliance right now: the HTTP requests in flight (an event stream
 * counts only until its first answer; an upload until its receipt). Background work that can wait
 * (preparing resume-code triples) asks `whenQuiet()` before each piece, so it never competes with
 * a storm of sign-ins or submissions for the box's cores.
 *
 * Why not leave it to the scheduler: bench:hall measured the 1,000-examinee submission storm at
 * 0.74 of the baseline with no background work, 0.61 with a background PBKDF2 thread at SCHED_IDLE
 * and 0.41–0.56 at nice 19 (docs/performance.md). Even a thread that only gets idle CPU costs a
 * storm, whose threads keep sleeping on fsync and waking again.
 */
export interface ForegroundLoadOptions {
  /** At most this many requests in flight count as quiet (a hall's autosaves trickle in). */
  maxInFlight?: number;
  /** Quiet must have lasted this long, ms. */
  settleMs?: number;
  /** The clock, ms (tests). */
  now?: () => number;
}

export class ForegroundLoad {
  private inFlightNow = 0;
  /** When the last request began or ended (or -Infinity). */
  private lastRequestAt = Number.NEGATIVE_INFINITY;
  /** When the requests in flight last went above maxInFlight (or -Infinity). */
  private lastBusyAt = Number.NEGATIVE_INFINITY;
  private readonly maxInFlight: number;
  private readonly settleMs: number;
  private readonly now: () => number;

  constructor(options: ForegroundLoadOptions = {}) {
    this.maxInFlight = options.maxInFlight ?? 4;
    this.settleMs = options.settleMs ?? 250;
    this.now = options.now ?? (() => performance.now());
  }

  get inFlight(): number {
    return this.inFlightNow;
  }

  /** A request has begun; call the function returned once it has been answered (once). */
  begin(): () => void {
    this.inFlightNow++;
    this.lastRequestAt = this.now();
    if (this.inFlightNow > this.maxInFlight) this.lastBusyAt = this.now();
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.lastRequestAt = this.now();
      // Still busy up to this moment: the quiet starts when the count drops back.
      if (this.inFlightNow > this.maxInFlight) this.lastBusyAt = this.now();
      this.inFlightNow--;
    };
  }

  /** No request in flight, and none began or ended for `forMs` (nobody is being served). */
  isIdle(forMs = 1_000): boolean {
    return this.inFlightNow === 0 && this.now() - this.lastRequestAt >= forMs;
  }

  /** Whether background work may run now. */
  isQuiet(): boolean {
    return this.inFlightNow <= this.maxInFlight && this.now() - this.lastBusyAt >= this.settleMs;
  }

  /**
   * Resolves once the hall is quiet (at once when it is). Polls every `settleMs` while it waits,
   * on a timer that does not keep the process alive.
   */
  async whenQuiet(): Promise<void> {
    while (!this.isQuiet()) {
      await new Promise<void>((resolve) => setTimeout(resolve, this.settleMs).unref());
    }
  }
}
