import { describe, expect, it } from 'vitest';
import { SlicedDelivery, type Recipient } from './sliced-delivery.js';

describe('sliced delivery', () => {
  it('serves a few listeners at once, many in slices with the event loop free between them, in order', async () => {
    const delivery = new SlicedDelivery(undefined, 10);
    const got: string[] = [];
    const many: Recipient<string>[] = Array.from({ length: 35 }, (_, i) => ({
      deliver: (u) => got.push(`${u}${i}`),
      closed: false,
    }));
    delivery.send(many.slice(0, 3), 'x');
    expect(got).toEqual(['x0', 'x1', 'x2']);
    got.length = 0;
    delivery.send(many, 'a');
    delivery.send(many.slice(0, 2), 'b');
    // The first slice at once; the rest after the event loop turned.
    expect(got).toHaveLength(10);
    let turns = 0;
    while (delivery.pending > 0) {
      await new Promise((r) => setImmediate(r));
      turns++;
    }
    expect(turns).toBeGreaterThanOrEqual(3);
    expect(got).toEqual([...many.map((_, i) => `a${i}`), 'b0', 'b1']);
  });

  it('skips a listener that closed meanwhile and goes on past one that throws', async () => {
    const errors: unknown[] = [];
    const delivery = new SlicedDelivery((err) => errors.push(err), 1);
    const got: number[] = [];
    const rs: Recipient<number>[] = [
      {
        deliver: () => {
          throw new Error('broken');
        },
        closed: false,
      },
      { deliver: (u) => got.push(u), closed: false },
      { deliver: (u) => got.push(-u), closed: false },
    ];
    delivery.send(rs, 7);
    rs[2]!.closed = true;
    while (delivery.pending > 0) await new Promise((r) => setImmediate(r));
    expect(got).toEqual([7]);
    expect(errors).toHaveLength(1);
  });
});
