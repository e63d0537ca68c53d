/**
 * mulberry32: a small seeded generator for tests, fuzzers and benchmarks, so that a run replays
 * from its seed. Not for anything secret.
 */

/** 32-bit unsigned values from `seed`. */
export function seededUint32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Numbers in [0, 1) from `seed`. */
export function seededRandom(seed: number): () => number {
  const next = seededUint32(seed);
  return () => next() / 4_294_967_296;
}

/** Numbers in [0, 1), whole numbers below n and picks from a list, from `seed`. */
export function seededChoices(seed: number) {
  const next = seededRandom(seed);
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(list: readonly T[]): T => list[int(list.length)]!;
  return { next, int, pick };
}
export type SeededChoices = ReturnType<typeof seededChoices>;
