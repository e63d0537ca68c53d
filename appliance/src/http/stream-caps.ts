/**
 * How many event streams may be open: at most `perSession` per session (an examinee's token or a
 * proctor's session) and `perAddress` per network address. A session over its cap loses its
 * OLDEST stream, never the new one: a proctor reloading tabs, or a laptop whose old connection
 * is still half-open after a Wi-Fi drop, always gets the stream it just asked for. An address over
 * its cap is refused (429 too-many-streams): one device, or one NAT address in front of a whole
 * hall, cannot hold the box's memory and file descriptors with thousands of streams.
 */
import type { ErrorCode } from '../../../domain/errors.js';

export interface StreamLimits {
  perSession: number;
  perAddress: number;
}

/** An open stream's place: `release` gives it back (idempotent). */
export interface StreamSlot {
  release: () => void;
}

interface Held {
  session: string;
  address: string;
  /** Closes the stream because its session opened one too many. */
  replace: () => void;
  released: boolean;
}

export class StreamCaps {
  /** Each session's open streams, oldest first. */
  private readonly bySession = new Map<string, Held[]>();
  private readonly byAddress = new Map<string, number>();

  constructor(readonly limits: StreamLimits) {}

  /**
   * Takes a slot for a stream of `session` from `address`, replacing the session's oldest stream
   * when the session is at its cap (`replace` is what closes a stream that way), or refuses.
   */
  open(
    session: string,
    address: string,
    replace: () => void,
  ): { ok: true; slot: StreamSlot } | { ok: false; code: ErrorCode; detail: string } {
    const mine = this.bySession.get(session) ?? [];
    // The session's oldest go first: that also frees their address's slots for the new one.
    while (mine.length >= this.limits.perSession) {
      const oldest = mine[0]!;
      this.release(oldest);
      oldest.replace();
    }
    if ((this.byAddress.get(address) ?? 0) >= this.limits.perAddress)
      return {
        ok: false,
        code: 'too-many-streams',
        detail: `at most ${this.limits.perAddress} event streams from one network address`,
      };
    const held: Held = { session, address, replace, released: false };
    mine.push(held);
    this.bySession.set(session, mine);
    this.byAddress.set(address, (this.byAddress.get(address) ?? 0) + 1);
    return { ok: true, slot: { release: () => this.release(held) } };
  }

  /** Streams open now (all, or one address's). */
  count(address?: string): number {
    if (address !== undefined) return this.byAddress.get(address) ?? 0;
    let n = 0;
    for (const v of this.byAddress.values()) n += v;
    return n;
  }

  private release(held: Held): void {
    if (held.released) return;
    held.released = true;
    const mine = this.bySession.get(held.session);
    if (mine) {
      const at = mine.indexOf(held);
      if (at >= 0) mine.splice(at, 1);
      if (mine.length === 0) this.bySession.delete(held.session);
    }
    const n = (this.byAddress.get(held.address) ?? 1) - 1;
    if (n <= 0) this.byAddress.delete(held.address);
    else this.byAddress.set(held.address, n);
  }
}
