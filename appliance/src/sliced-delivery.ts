/**
 * Delivers updates to many listeners (event streams) in slices: at most SLICE_SIZE listener calls
 * in one turn of the event loop, then `setImmediate` before the next slice, so that a message to
 * a hall of 1,000 examinees (or a row to hundreds of monitor streams) never holds sign-ins,
 * autosaves and health checks behind it. Updates keep their order: one queue, first in, first out;
 * a listener removed meanwhile is skipped. A few listeners (the usual case) are served at once.
 */

/** Listener calls per turn of the event loop. */
export const SLICE_SIZE = 100;

/** One listener: `closed` once it unsubscribed (skipped from then on). */
export interface Recipient<T> {
  deliver: (update: T) => void;
  closed: boolean;
}

interface Job {
  recipients: readonly Recipient<unknown>[];
  update: unknown;
  next: number;
}

export class SlicedDelivery {
  private readonly queue: Job[] = [];
  private running = false;

  constructor(
    /** Hears a listener that threw (the others are still served). */
    private readonly onError: (err: unknown) => void = (err) =>
      process.emitWarning(`an event stream's listener failed: ${err instanceof Error ? err.message : String(err)}`),
    private readonly sliceSize = SLICE_SIZE,
  ) {}

  /** Delivers `update` to `recipients` (a snapshot: listeners added later do not get it). */
  send<T>(recipients: readonly Recipient<T>[], update: T): void {
    if (recipients.length === 0) return;
    this.queue.push({ recipients: recipients as readonly Recipient<unknown>[], update, next: 0 });
    if (!this.running) {
      this.running = true;
      this.run();
    }
  }

  /** Updates not yet delivered to all their listeners. */
  get pending(): number {
    return this.queue.length;
  }

  private readonly run = (): void => {
    let budget = this.sliceSize;
    while (this.queue.length > 0) {
      const job = this.queue[0]!;
      while (job.next < job.recipients.length) {
        if (budget === 0) {
          setImmediate(this.run);
          return;
        }
        const recipient = job.recipients[job.next++]!;
        budget--;
        if (recipient.closed) continue;
        try {
          recipient.deliver(job.update);
        } catch (err) {
          this.onError(err);
        }
      }
      this.queue.shift();
    }
    this.running = false;
  };
}
