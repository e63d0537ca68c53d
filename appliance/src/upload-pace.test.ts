import { describe, expect, it } from 'vitest';
import { pacedBody, pacedPull, UploadTooSlow } from './upload-pace.js';

const PACE = { minBytesPerSecond: 1_000, windowMs: 200 };

/** A body that gives `chunks` of `size` bytes, each after `gapMs`. */
function trickle(chunks: number, size: number, gapMs: number): AsyncIterable<Uint8Array> {
  return {
    async *[Symbol.asyncIterator]() {
      for (let i = 0; i < chunks; i++) {
        await new Promise((r) => setTimeout(r, gapMs));
        yield new Uint8Array(size);
      }
    },
  };
}

async function readAll(body: AsyncIterable<Uint8Array>): Promise<number> {
  let n = 0;
  for await (const c of body) n += c.byteLength;
  return n;
}

describe('upload pace', () => {
  it('lets a body at or above the rate through', async () => {
    // 100 bytes every 20 ms = 5,000 bytes/s.
    expect(await readAll(pacedBody(trickle(20, 100, 20), PACE))).toBe(2_000);
  });

  it('cuts a trickle below the rate with UploadTooSlow', async () => {
    // 1 byte every 50 ms = 20 bytes/s.
    await expect(readAll(pacedBody(trickle(100, 1, 50), PACE))).rejects.toBeInstanceOf(UploadTooSlow);
  });

  it('cuts a body that sends nothing at all within a window', async () => {
    const silent = () => new Promise<{ done: boolean; value?: Uint8Array }>(() => undefined);
    const started = performance.now();
    await expect(pacedPull(silent, PACE)()).rejects.toBeInstanceOf(UploadTooSlow);
    expect(performance.now() - started).toBeGreaterThanOrEqual(PACE.windowMs - 5);
  });

  it('does not count time the appliance spends elsewhere (backpressure, disk) against the client', async () => {
    let n = 0;
    const read = pacedPull(async () => ({ done: false, value: new Uint8Array(300) }), PACE);
    for (let i = 0; i < 5; i++) {
      n += (await read()).value?.byteLength ?? 0;
      // The reader is busy for longer than the window between reads: the client is not slow.
      await new Promise((r) => setTimeout(r, PACE.windowMs + 50));
    }
    expect(n).toBe(1_500);
  });
});
