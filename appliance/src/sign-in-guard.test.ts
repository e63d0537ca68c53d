/**
 * The sign-in guard's rules with a fake clock and a recorded sleep: the account is slowed (capped)
 * but never refused, (account, address) and address are refused with a wait, a known device meets
 * only its own budget, parallel attempts cannot overshoot, and memory stays bounded.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../domain/clock.js';
import { addressKey, delayFor, MAX_HELD_PER_ADDRESS, SignInGuard, type SignInLimits } from './sign-in-guard.js';

const MIN = 60_000;
const LIMITS: SignInLimits = {
  perAddress: 20,
  perAccountAddress: 5,
  delayCapMs: 3_000,
  windowMs: 15 * MIN,
  maxKeys: 100,
};

function setup(limits: Partial<SignInLimits> = {}) {
  const clock = new FakeClock(Date.parse('2026-06-01T09:00:00Z'));
  const slept: number[] = [];
  const guard = new SignInGuard(clock, { ...LIMITS, ...limits }, (ms) => {
    slept.push(ms);
    return Promise.resolve();
  });
  const attempt = async (account: string, address: string, right: boolean, knownDevice?: string) => {
    const r = await guard.attempt(
      { account, address, knownDevice },
      () => Promise.resolve(right),
      (v) => v,
    );
    return r.ok ? (r.value ? 'in' : 'wrong') : `${r.code} ${r.retryAfterSeconds}s`;
  };
  return { clock, guard, slept, attempt };
}

describe('sign-in guard', () => {
  it('grows the delay from the 4th wrong attempt, doubling, capped', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 20].map((n) => delayFor(n, 3_000))).toEqual([
      0, 0, 0, 250, 500, 1_000, 2_000, 3_000, 3_000,
    ]);
    expect(delayFor(100, 0)).toBe(0);
    // Partly drained: still the delay of the whole count.
    expect([2.01, 3.5, 4.99].map((n) => delayFor(n, 3_000))).toEqual([250, 500, 1_000]);
  });

  it('slows the account from every address but never refuses it; refuses the guessing address', async () => {
    const { guard, slept, attempt } = setup({ perAddress: 1_000 });
    for (let i = 0; i < 5; i++) expect(await attempt('chief', '10.0.0.66', false)).toBe('wrong');
    // Then (chief, 10.0.0.66) is refused with the time a new try has to wait: 15 min / 5 = 3 min.
    expect(await attempt('chief', '10.0.0.66', true)).toBe('too-many-attempts 180s');
    // Guessing on from many addresses: each gets 5, the account is held at most 3 s.
    for (let a = 1; a <= 40; a++) for (let i = 0; i < 5; i++) await attempt('chief', `10.0.1.${a}`, false);
    expect(Math.max(...slept)).toBe(3_000);
    expect(guard.delayNow('chief')).toBe(3_000);
    slept.length = 0;
    // The owner from another address: in, after at most the cap.
    expect(await attempt('chief', '10.0.2.1', true)).toBe('in');
    expect(slept).toEqual([3_000]);
  });

  it('lets the address try again as its bucket drains, and forgives the pair on a right secret', async () => {
    const { clock, attempt } = setup();
    for (let i = 0; i < 5; i++) await attempt('S1', '10.0.0.5', false);
    expect(await attempt('S1', '10.0.0.5', true)).toMatch(/^too-many-attempts/);
    clock.advance(3 * MIN);
    expect(await attempt('S1', '10.0.0.5', true)).toBe('in');
    // Forgiven: 5 more tries from there.
    for (let i = 0; i < 5; i++) expect(await attempt('S1', '10.0.0.5', false)).toBe('wrong');
    expect(await attempt('S1', '10.0.0.5', false)).toMatch(/^too-many-attempts/);
  });

  it('refuses an address guessing across accounts, counting failures only', async () => {
    const { clock, attempt } = setup();
    // A hall behind one NAT address: a hundred right codes cost nothing.
    for (let i = 0; i < 100; i++) expect(await attempt(`S${i}`, '192.0.2.1', true)).toBe('in');
    for (let i = 0; i < 20; i++) expect(await attempt(`X${i}`, '192.0.2.1', false)).toBe('wrong');
    expect(await attempt('S5', '192.0.2.1', true)).toBe('too-many-failures-from-address 45s');
    // Another address is not affected; refusals are not counted, so one drain step frees this one.
    expect(await attempt('S5', '192.0.2.2', true)).toBe('in');
    for (let i = 0; i < 10; i++) await attempt('S5', '192.0.2.1', true);
    clock.advance(45_000);
    expect(await attempt('S5', '192.0.2.1', true)).toBe('in');
  });

  it("lets a known device in at once whatever others sent, within the device's own budget", async () => {
    const { slept, attempt } = setup();
    for (let i = 0; i < 50; i++) await attempt('chief', '10.0.0.66', false);
    slept.length = 0;
    expect(await attempt('chief', '10.0.0.66', true)).toMatch(/^too-many-attempts/);
    expect(await attempt('chief', '10.0.0.66', true, 'tablet')).toBe('in');
    expect(slept).toEqual([]);
    // Its own typos: 5, then it is an unknown device like any other (refused at that address).
    for (let i = 0; i < 5; i++) expect(await attempt('chief', '10.0.0.66', false, 'tablet')).toBe('wrong');
    expect(await attempt('chief', '10.0.0.66', true, 'tablet')).toMatch(/^too-many-attempts/);
  });

  it('counts attempts in flight, so parallel guesses cannot overshoot (account, address)', async () => {
    const clock = new FakeClock(0);
    const guard = new SignInGuard(clock, { ...LIMITS, perAddress: 1_000 });
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const results = Array.from({ length: 50 }, () =>
      guard.attempt(
        { account: 'chief', address: '10.0.0.66' },
        () => gate.then(() => false),
        (v) => v,
      ),
    );
    release();
    const done = await Promise.all(results);
    expect(done.filter((r) => r.ok)).toHaveLength(5);
    expect(done.filter((r) => !r.ok && r.code === 'too-many-attempts')).toHaveLength(45);
  });

  it('holds at most MAX_HELD_PER_ADDRESS delayed attempts per address', async () => {
    const clock = new FakeClock(0);
    const wakes: Array<() => void> = [];
    const guard = new SignInGuard(
      clock,
      { ...LIMITS, perAddress: 10_000, perAccountAddress: 10_000 },
      () => new Promise<void>((r) => wakes.push(r)),
    );
    const wrong = (account: string, address: string) =>
      guard.attempt(
        { account, address },
        () => Promise.resolve(false),
        (v) => v,
      );
    for (let i = 0; i < 3; i++) await wrong('chief', `10.0.0.${i}`);
    const held = Array.from({ length: MAX_HELD_PER_ADDRESS + 4 }, () => wrong('chief', '10.0.0.66'));
    const busy = await Promise.all(held.slice(MAX_HELD_PER_ADDRESS));
    expect(busy.every((r) => !r.ok && r.code === 'sign-in-busy' && r.retryAfterSeconds === 1)).toBe(true);
    expect(wakes).toHaveLength(MAX_HELD_PER_ADDRESS);
    // Another address is still served.
    const other = wrong('chief', '10.0.0.77');
    expect(wakes).toHaveLength(MAX_HELD_PER_ADDRESS + 1);
    for (const wake of wakes) wake();
    await Promise.all([...held, other]);
  });

  it('keeps at most maxKeys counters per kind under a flood of new accounts and addresses', async () => {
    const { guard, attempt } = setup({ maxKeys: 100, perAddress: 1_000_000 });
    for (let i = 0; i < 2_000; i++) await attempt(`user-${i}`, `10.${i >> 8}.${i & 255}.1`, false);
    const tracked = guard.tracked;
    for (const n of Object.values(tracked)) expect(n).toBeLessThanOrEqual(100);
    expect(tracked.addresses).toBeGreaterThan(50);
  });

  it('counts IPv6 by /64 and IPv4-mapped addresses as IPv4', () => {
    expect(addressKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(addressKey('192.0.2.7')).toBe('192.0.2.7');
    expect(addressKey('2001:db8:0:1:aaaa::1')).toBe('2001:db8:0:1::/64');
    expect(addressKey('2001:db8:0:1:bbbb:cccc:dddd:eeee')).toBe('2001:db8:0:1::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('local')).toBe('local');
  });
});
