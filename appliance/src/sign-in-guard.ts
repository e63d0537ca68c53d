/**
 * Sign-in limits that slow and then refuse a guesser without locking the owner out (OWASP ASVS
 * 2.2.1; the device rule is OWASP's "Slow Down Online Guessing Attacks with Device Cookies").
 * One guard per secret: proctor passwords (username) and examinee access codes (student id).
 *
 * An attempt at an account's secret from a KNOWN DEVICE of that account (one that signed in to it
 * before: the proctor's device cookie, the examinee's bound device id) meets only that device's
 * own budget, `perAccountAddress` wrong attempts per window: no delay, no address limit, so the
 * owner gets in whatever others send. From any other device, in this order:
 *
 *   1. refused (`too-many-failures-from-address`) once its network address has `perAddress`
 *      wrong attempts in the window, whatever the accounts: one device guessing across the
 *      roster. Failures, not attempts, are counted, so a hall behind one NAT address signs in;
 *   2. refused (`too-many-attempts`) once that (account, address) has `perAccountAddress` wrong
 *      attempts (plus attempts in flight, so parallel requests cannot overshoot) in the window;
 *   3. otherwise held for a delay that grows with the account's wrong attempts from everywhere:
 *      none for the first FREE_FAILURES, then DELAY_FIRST_MS doubling, capped at `delayCapMs`.
 *      The account alone is never refused: that is what let anyone lock the chief out.
 *
 * A refused attempt is not counted (a guesser cannot push the address's count up with 429s), and
 * a right secret forgives nothing but its own (account, address) budget.
 *
 * Counts are leaky buckets: a limit L over the window W lets L through at once and then one every
 * W / L (a burst of 5 wrong passwords, then one every 3 minutes). Each bucket is two numbers, and
 * each kind keeps at most `maxKeys` of them: when full, drained buckets go first, then the least
 * recently used. Held requests are bounded too (MAX_HELD, MAX_HELD_PER_ADDRESS; beyond that
 * `sign-in-busy`), so a flood of slowed requests holds no more than that many timers.
 */
import { isIPv6 } from 'node:net';
import type { Clock } from '../../domain/clock.js';

export interface SignInLimits {
  /** Wrong attempts per network address in the window, whatever the account. */
  perAddress: number;
  /** Wrong attempts per (account, address), and per known device of the account, in the window. */
  perAccountAddress: number;
  /** The longest delay an account's wrong attempts impose on the next attempt. */
  delayCapMs: number;
  windowMs: number;
  /** Buckets kept per kind (address, account and address, account, device). */
  maxKeys: number;
}

/** Wrong attempts at an account (from unknown devices) before its attempts are slowed. */
export const FREE_FAILURES = 3;
/** The first delay; each further wrong attempt doubles it up to the cap. */
export const DELAY_FIRST_MS = 250;
/** Requests held in a delay at one time, overall and per network address. */
export const MAX_HELD = 256;
export const MAX_HELD_PER_ADDRESS = 16;
/** The account's bucket counts this far (the delay reached its cap long before) and drains in a window. */
const ACCOUNT_LEVELS = 16;

export type LimitCode = 'too-many-attempts' | 'too-many-failures-from-address' | 'sign-in-busy';
export interface LimitRefusal {
  ok: false;
  code: LimitCode;
  retryAfterSeconds: number;
}

export interface SignInAttempt {
  /** The account: a proctor's username or an examinee's student id. */
  account: string;
  /** The network address as Node reports it. */
  address: string;
  /** This device's id when it is a known device of the account (it signed in to it before). */
  knownDevice?: string | undefined;
}

/**
 * The delay the account's wrong attempts (drained level `level`) impose: a wrong attempt counts
 * until it has drained away entirely, so the 5th is felt in full right after it.
 */
export function delayFor(level: number, capMs: number): number {
  const over = Math.ceil(level - 1e-9) - FREE_FAILURES;
  if (over < 0) return 0;
  return Math.min(capMs, DELAY_FIRST_MS * 2 ** Math.min(over, 30));
}

/**
 * The key an address is counted under: IPv4 (also when IPv4-mapped) as it is, IPv6 by its /64
 * (a device picks any address in its network's /64 at will).
 */
export function addressKey(address: string): string {
  const plain = address.replace(/%.*$/, '');
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(plain);
  if (mapped) return mapped[1]!;
  if (!isIPv6(plain)) return plain;
  const [head = '', tail] = plain.toLowerCase().split('::');
  const front = head === '' ? [] : head.split(':');
  const back = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups =
    tail === undefined ? front : [...front, ...Array<string>(8 - front.length - back.length).fill('0'), ...back];
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

interface Bucket {
  level: number;
  at: number;
  inFlight: number;
}

/** Leaky buckets by key, at most `maxKeys` of them. */
class Buckets {
  private readonly map = new Map<string, Bucket>();
  private readonly perMs: number;

  constructor(
    private readonly clock: Clock,
    private readonly capacity: number,
    windowMs: number,
    private readonly maxKeys: number,
  ) {
    this.perMs = capacity / windowMs;
  }

  get size(): number {
    return this.map.size;
  }

  /** The bucket's level now (drained since it was last written); 0 for an unknown key. */
  level(key: string): number {
    const b = this.map.get(key);
    return b === undefined ? 0 : this.drained(b);
  }

  inFlight(key: string): number {
    return this.map.get(key)?.inFlight ?? 0;
  }

  /** Whether one more wrong attempt would go past `limit`; with the milliseconds until it would not. */
  full(key: string, limit: number): number | undefined {
    const b = this.map.get(key);
    if (b === undefined) return undefined;
    this.touch(key, b);
    const over = this.drained(b) + b.inFlight + 1 - limit;
    return over > 1e-9 ? Math.ceil(over / this.perMs) : undefined;
  }

  /** Adds `level` wrong attempts (-Infinity: forgives them all) and `inFlight` attempts under way. */
  add(key: string, level: number, inFlight: number): void {
    const b = this.map.get(key) ?? this.make(key);
    b.level = Math.min(this.capacity, Math.max(0, this.drained(b) + level));
    b.at = this.clock.now();
    b.inFlight = Math.max(0, b.inFlight + inFlight);
    this.touch(key, b);
    if (b.level <= 1e-9 && b.inFlight === 0) this.map.delete(key);
  }

  private drained(b: Bucket): number {
    // A clock set back (a box without RTC) drains nothing until it passes `at` again.
    const elapsed = Math.max(0, this.clock.now() - b.at);
    return Math.max(0, b.level - elapsed * this.perMs);
  }

  private touch(key: string, b: Bucket): void {
    this.map.delete(key);
    this.map.set(key, b);
  }

  private make(key: string): Bucket {
    if (this.map.size >= this.maxKeys) this.prune();
    const b = { level: 0, at: this.clock.now(), inFlight: 0 };
    this.map.set(key, b);
    return b;
  }

  /** Down to 90 % of the keys (so that pruning is rare): drained buckets first, then the least recently used. */
  private prune(): void {
    const target = Math.floor(this.maxKeys * 0.9);
    for (const [key, b] of this.map) if (b.inFlight === 0 && this.drained(b) <= 1e-9) this.map.delete(key);
    for (const [key, b] of this.map) {
      if (this.map.size <= target) break;
      if (b.inFlight === 0) this.map.delete(key);
    }
  }
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class SignInGuard {
  private readonly byAddress: Buckets;
  private readonly byAccountAddress: Buckets;
  private readonly byAccount: Buckets;
  private readonly byDevice: Buckets;
  private held = 0;
  private readonly heldByAddress = new Map<string, number>();

  constructor(
    clock: Clock,
    private readonly limits: SignInLimits,
    /** How a delay is waited out (tests pass one that records it). */
    private readonly sleep: (ms: number) => Promise<void> = realSleep,
  ) {
    const { windowMs, maxKeys } = limits;
    this.byAddress = new Buckets(clock, limits.perAddress, windowMs, maxKeys);
    this.byAccountAddress = new Buckets(clock, limits.perAccountAddress, windowMs, maxKeys);
    this.byAccount = new Buckets(clock, ACCOUNT_LEVELS, windowMs, maxKeys);
    this.byDevice = new Buckets(clock, limits.perAccountAddress, windowMs, maxKeys);
  }

  /** Buckets held, per kind (for tests and the docs' memory figures). */
  get tracked(): { addresses: number; accountAddresses: number; accounts: number; devices: number } {
    return {
      addresses: this.byAddress.size,
      accountAddresses: this.byAccountAddress.size,
      accounts: this.byAccount.size,
      devices: this.byDevice.size,
    };
  }

  /** The delay an attempt at `account` from an unknown device would wait now. */
  delayNow(account: string): number {
    return delayFor(this.byAccount.level(account), this.limits.delayCapMs);
  }

  /**
   * Runs `check` (which tells whether the secret was right) within the limits: refused before it
   * runs, or run after the account's delay, and its outcome counted.
   */
  async attempt<T>(
    who: SignInAttempt,
    check: () => Promise<T>,
    correct: (value: T) => boolean,
  ): Promise<{ ok: true; value: T } | LimitRefusal> {
    const address = addressKey(who.address);
    const device = who.knownDevice === undefined ? undefined : `${who.account}\u0000${who.knownDevice}`;
    // A known device that has used up its own budget is just another device.
    if (device !== undefined && this.byDevice.full(device, this.limits.perAccountAddress) === undefined)
      return this.settle(check, correct, (right) => this.byDevice.add(device, right ? 0 : 1, 0));

    const pair = `${who.account}\u0000${address}`;
    const addressWait = this.byAddress.full(address, this.limits.perAddress);
    if (addressWait !== undefined) return refusal('too-many-failures-from-address', addressWait);
    const pairWait = this.byAccountAddress.full(pair, this.limits.perAccountAddress);
    if (pairWait !== undefined) return refusal('too-many-attempts', pairWait);
    const delayMs = this.delayNow(who.account);
    if (delayMs > 0 && !this.hold(address)) return refusal('sign-in-busy', delayMs);
    this.byAccountAddress.add(pair, 0, 1);
    let right = false;
    try {
      if (delayMs > 0) {
        try {
          await this.sleep(delayMs);
        } finally {
          this.release(address);
        }
      }
      const value = await check();
      right = correct(value);
      return { ok: true, value };
    } finally {
      if (right) this.byAccountAddress.add(pair, -Infinity, -1);
      else {
        this.byAccountAddress.add(pair, 1, -1);
        this.byAddress.add(address, 1, 0);
        this.byAccount.add(who.account, 1, 0);
      }
    }
  }

  private async settle<T>(
    check: () => Promise<T>,
    correct: (value: T) => boolean,
    count: (right: boolean) => void,
  ): Promise<{ ok: true; value: T }> {
    let right = false;
    try {
      const value = await check();
      right = correct(value);
      return { ok: true, value };
    } finally {
      count(right);
    }
  }

  private hold(address: string): boolean {
    const here = this.heldByAddress.get(address) ?? 0;
    if (this.held >= MAX_HELD || here >= MAX_HELD_PER_ADDRESS) return false;
    this.held += 1;
    this.heldByAddress.set(address, here + 1);
    return true;
  }

  private release(address: string): void {
    this.held -= 1;
    const here = (this.heldByAddress.get(address) ?? 1) - 1;
    if (here <= 0) this.heldByAddress.delete(address);
    else this.heldByAddress.set(address, here);
  }
}

function refusal(code: LimitCode, waitMs: number): LimitRefusal {
  return { ok: false, code, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
}
