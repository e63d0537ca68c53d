import { describe, expect, it } from 'vitest';
import { ApplianceClock } from './appliance-clock';

/** A device clock the test sets by hand. */
class HandClock {
  constructor(public ms: number) {}
  now() {
    return this.ms;
  }
}

describe('ApplianceClock', () => {
  it('knows no time before the first contact', () => {
    const clock = new ApplianceClock(new HandClock(1_000));
    expect(clock.synchronised).toBe(false);
    expect(clock.now()).toBeUndefined();
  });

  it('follows the appliance, not the device, with half the round trip added', () => {
    // The device is three hours fast; the request took 200 ms there and back.
    const device = new HandClock(0);
    const clock = new ApplianceClock(device);
    const appliance = 1_800_000_000_000;
    const fast = 3 * 3_600_000;
    clock.observe(appliance - 100 + fast, appliance, appliance + 100 + fast);
    device.ms = appliance + 100 + fast;
    expect(clock.now()).toBe(appliance + 100);
    device.ms += 61_000;
    expect(clock.now()).toBe(appliance + 61_100);
    expect(clock.offset).toBe(-fast);
  });

  it('takes the latest contact, so a device clock set back in between is corrected', () => {
    const device = new HandClock(10_000);
    const clock = new ApplianceClock(device);
    clock.observe(10_000, 50_000, 10_000);
    expect(clock.now()).toBe(50_000);
    device.ms = 2_000; // someone set the device clock back
    clock.observe(2_000, 51_000, 2_000);
    expect(clock.now()).toBe(51_000);
  });

  it('treats a receipt before the send (clock stepped mid-request) as no round trip', () => {
    const clock = new ApplianceClock(new HandClock(5_000));
    clock.observe(9_000, 20_000, 5_000);
    expect(clock.now()).toBe(20_000);
  });
});
