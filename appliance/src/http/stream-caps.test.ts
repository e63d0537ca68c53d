import { describe, expect, it } from 'vitest';
import { StreamCaps } from './stream-caps.js';

describe('stream caps', () => {
  it("closes a session's oldest stream for a new one: a reload never locks anyone out", () => {
    const caps = new StreamCaps({ perSession: 2, perAddress: 100 });
    const replaced: string[] = [];
    const open = (name: string) => caps.open('examinee:t1', '10.0.0.5', () => replaced.push(name));
    expect(open('a').ok).toBe(true);
    expect(open('b').ok).toBe(true);
    expect(open('c').ok).toBe(true);
    expect(open('d').ok).toBe(true);
    expect(replaced).toEqual(['a', 'b']);
    expect(caps.count('10.0.0.5')).toBe(2);
  });

  it('refuses streams past the per-address cap with too-many-streams; a closed stream frees its place', () => {
    const caps = new StreamCaps({ perSession: 4, perAddress: 3 });
    const slots = ['s1', 's2', 's3'].map((s) => caps.open(s, '10.0.0.5', () => undefined));
    const refused = caps.open('s4', '10.0.0.5', () => undefined);
    expect(refused).toMatchObject({ ok: false, code: 'too-many-streams' });
    // Another address is not affected.
    expect(caps.open('s4', '10.0.0.6', () => undefined).ok).toBe(true);
    const first = slots[0]!;
    if (!first.ok) throw new Error('expected a slot');
    first.slot.release();
    first.slot.release(); // idempotent
    expect(caps.open('s5', '10.0.0.5', () => undefined).ok).toBe(true);
    expect(caps.count()).toBe(4);
  });

  it('a session at its cap behind a full address still gets its new stream (its oldest goes)', () => {
    const caps = new StreamCaps({ perSession: 1, perAddress: 1 });
    let replaced = 0;
    expect(caps.open('p', 'nat', () => replaced++).ok).toBe(true);
    expect(caps.open('p', 'nat', () => replaced++).ok).toBe(true);
    expect(replaced).toBe(1);
    expect(caps.open('q', 'nat', () => undefined).ok).toBe(false);
  });
});
