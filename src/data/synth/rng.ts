/**
 * A seeded, index-addressable random number generator built from 32-bit integer hashing
 * (`Math.imul` and shifts only), so image `i` of a dataset draws the same numbers on every
 * machine and in any order, with no state carried from image to image.
 *
 * @module
 */

/**
 * Mixes one 32-bit word into a running hash (murmur3-style finaliser).
 *
 * @param h running hash
 * @param x word to mix in (any integer; taken modulo 2^32)
 * @returns the new hash, an unsigned 32-bit integer
 */
export function mix32(h: number, x: number): number {
  h = Math.imul(h ^ (x >>> 0), 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca77);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae3d);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Hashes a list of integers (a seed, a stream tag, an index …) to one unsigned 32-bit word.
 *
 * @param parts integers; each is taken modulo 2^32 (indices up to 2^53 keep their high bits)
 * @returns an unsigned 32-bit hash
 * @example
 * ```ts
 * hash32(1, 7) === hash32(1, 7); // true, on any machine
 * ```
 */
export function hash32(...parts: number[]): number {
  let h = 0x2545f491;
  for (const p of parts) {
    h = mix32(h, p);
    h = mix32(h, Math.floor(p / 4294967296)); // high bits of large indices
  }
  return h;
}

/** Stream tags, so different uses of one index never share random numbers. */
export const STREAM = {
  identity: 0x1d,
  expression: 0xe7,
  capture: 0xca,
  pixels: 0x91,
} as const;

/**
 * A small, fast generator (mulberry32) started from a hash; every draw is a pure function of
 * the starting hash and the number of draws before it.
 */
export class Rng {
  #s: number;

  /** @param seed any 32-bit integer, usually from {@link hash32} */
  constructor(seed: number) {
    this.#s = seed >>> 0;
  }

  /** @returns an unsigned 32-bit integer */
  u32(): number {
    this.#s = (this.#s + 0x6d2b79f5) >>> 0;
    let t = this.#s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** @returns a float in [0, 1) */
  next(): number {
    return this.u32() / 4294967296;
  }

  /**
   * @param lo lower bound
   * @param hi upper bound
   * @returns a float uniform in [lo, hi)
   */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /**
   * An approximately normal draw (sum of four uniforms, clipped at about 3.5 sigma).
   *
   * @param mean centre
   * @param sd standard deviation
   * @returns a float
   */
  normal(mean = 0, sd = 1): number {
    const s = this.next() + this.next() + this.next() + this.next() - 2;
    return mean + sd * s * 1.7320508;
  }

  /**
   * @param p probability of true
   * @returns true with probability `p`
   */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /**
   * @param n number of choices
   * @returns an integer uniform in [0, n)
   */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /**
   * @param items choices
   * @returns one of `items`, uniformly
   */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
}
