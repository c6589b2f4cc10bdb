/**
 * The one family of seeded random numbers, below everything that draws: the face generator
 * (identities, expressions, captures, pixel noise), batch orders and class-balanced epochs,
 * augmentation parameters, dropout masks and initial weights.
 *
 * Every generator is keyed by a tuple of numbers — `(seed, stream, index…)`, for example
 * `(seed, STREAM.augment, stage, step, microBatch)` — so a draw never depends on how the
 * program got there: image `i` of a dataset is the same in any order and on every machine, and
 * a resumed run sees exactly the numbers an uninterrupted run would (the only "RNG state" a
 * checkpoint needs is the step). Only 32-bit integer arithmetic is used (`Math.imul` and
 * shifts), so results do not depend on the platform's floating point.
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
 * @param parts integers; each is taken modulo 2^32, and the high bits of integers up to 2^53
 *   are mixed in too
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
    h = mix32(h, Math.floor(p / 4294967296));
  }
  return h;
}

/**
 * One step of the cheap integer hash chain used where a value per pixel is needed in a hot loop
 * (sensor noise, pores, blotch grids): `h = step(h)` gives the next 32-bit word. Seed it from an
 * {@link Rng} or {@link hash32}.
 *
 * @param h the previous word (a signed 32-bit integer)
 * @returns the next word (a signed 32-bit integer; use `>>> 0` or bit fields of it)
 */
export function hashStep(h: number): number {
  return (Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) + 0x297a2d39) | 0;
}

/**
 * Stream tags, so that no two uses of one seed share draws. Training: `init`, `order`,
 * `augment`, `dropout`, `finetuneInit`, `balance`; the generator: `identity`, `expression`,
 * `capture`, `pixels`.
 */
export const STREAM = {
  init: 1,
  order: 2,
  augment: 3,
  dropout: 4,
  finetuneInit: 5,
  balance: 6,
  identity: 0x1d,
  expression: 0xe7,
  capture: 0xca,
  pixels: 0x91,
} as const;

/** A small, fast generator (sfc32) keyed by numbers, with uniform, normal and integer draws. */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;
  #spare: number | undefined;

  /**
   * A generator whose sequence is a pure function of its keys.
   *
   * @param keys any integers (seed, stream id, step, …); equal keys give equal sequences, and
   *   keys that differ anywhere give unrelated ones
   * @example
   * ```ts
   * const r = new Rng(1, STREAM.augment, 3);
   * r.uniform(); // in [0, 1)
   * ```
   */
  constructor(...keys: number[]) {
    const h = hash32(...keys);
    this.#a = mix32(h, 1);
    this.#b = mix32(h, 2);
    this.#c = mix32(h, 3);
    this.#d = mix32(h, 4);
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** The next draw. @returns a uniform unsigned 32-bit integer */
  u32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** The next draw, as a float. @returns a uniform number in [0, 1) */
  next(): number {
    return this.u32() / 4294967296;
  }

  /**
   * A uniform draw.
   *
   * @returns a uniform number in [lo, hi) @param lo @default 0 @param hi @default 1
   */
  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * this.next();
  }

  /** A uniform integer draw. @returns an integer in [0, n) @param n exclusive upper bound */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** A coin with bias `p`. @returns true with probability p @param p probability */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** A uniform choice. @returns one of `items`, uniformly @param items the choices */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /**
   * A normal draw (Box-Muller; the second value of each pair is kept for the next call).
   *
   * @param mean @default 0 @param sd standard deviation @default 1
   * @returns a float
   */
  normal(mean = 0, sd = 1): number {
    if (this.#spare !== undefined) {
      const s = this.#spare;
      this.#spare = undefined;
      return mean + sd * s;
    }
    const u = 1 - this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.#spare = r * Math.sin(2 * Math.PI * v);
    return mean + sd * r * Math.cos(2 * Math.PI * v);
  }

  /** Shuffles `a` in place (Fisher-Yates). @param a array @returns `a` */
  shuffle<T extends { length: number; [i: number]: unknown }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }
}
