/**
 * Time as the domain sees it: a Clock is passed in, never read from the environment, so every
 * rule can be tested with a fake clock, including one that jumps back.
 */

/** A source of the current time in milliseconds since the Unix epoch. */
export interface Clock {
  now(): number;
}

/** A clock that stays where it is set; for tests and for replaying recorded events. */
export class FakeClock implements Clock {
  constructor(private ms: number) {}
  now(): number {
    return this.ms;
  }
  set(ms: number): void {
    this.ms = ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

export const MINUTE = 60_000;
