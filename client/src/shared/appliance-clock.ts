/**
 * The appliance's time as seen from this device (DESIGN.md "Time"): the appliance's clock is the
 * hall's authority; the device's clock may be minutes or days off. At each contact the client
 * notes the device time before sending and on receipt and the appliance time in the answer, and
 * keeps offset = applianceTime + roundTrip / 2 - receivedAt (the answer was made about half a
 * round trip before it arrived). The latest contact wins, so a device clock changed in between
 * is corrected at the next contact; between contacts (also offline) time runs on the device
 * clock plus that offset.
 */

/** A source of the current time in milliseconds since the Unix epoch. */
export interface DeviceClock {
  now(): number;
}

export class ApplianceClock {
  private offsetMs: number | undefined;

  constructor(private readonly device: DeviceClock) {}

  /** Records one contact: device time when the request left, the appliance's time in the answer, device time on receipt. */
  observe(sentAt: number, applianceNow: number, receivedAt: number): void {
    const roundTrip = Math.max(0, receivedAt - sentAt);
    this.offsetMs = applianceNow + roundTrip / 2 - receivedAt;
  }

  /** Takes an offset measured earlier (kept on the device, so that a reload offline keeps time). */
  restore(offsetMs: number): void {
    if (Number.isFinite(offsetMs)) this.offsetMs = offsetMs;
  }

  /** Whether there has been a contact to measure against. */
  get synchronised(): boolean {
    return this.offsetMs !== undefined;
  }

  /** The appliance's time now; undefined before the first contact. */
  now(): number | undefined {
    return this.offsetMs === undefined ? undefined : this.device.now() + this.offsetMs;
  }

  /** How far the device clock is behind (positive) or ahead (negative) of the appliance. */
  get offset(): number | undefined {
    return this.offsetMs;
  }
}
