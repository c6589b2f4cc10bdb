/**
 * Seeded random numbers. Every random draw in training (batch order, augmentation parameters,
 * dropout masks, initial weights) comes from a generator keyed by `(seed, stream, step)`, so the
 * draws of step k never depend on how the run got there: a resumed run sees exactly the numbers
 * an uninterrupted run would, and the only "RNG state" a checkpoint needs is the step.
 *
 * @module
 */

/** A small, fast, seedable generator (sfc32) with uniform, normal and integer draws. */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;
  #spare: number | undefined;

  /**
   * @param keys any numbers (seed, stream id, step, …); equal keys give equal sequences
   * @example
   * ```ts
   * const r = new Rng(1, 2, 3);
   * r.uniform(); // in [0, 1)
   * ```
   */
  constructor(...keys: number[]) {
    // Mix the keys through a 32-bit hash so nearby keys give unrelated streams.
    let h = 0x9e3779b9;
    const mixed: number[] = [];
    for (let i = 0; i < 4; i++) {
      for (const k of keys) {
        h = Math.imul(h ^ (k >>> 0), 0x85ebca6b);
        h ^= h >>> 13;
        h = Math.imul(h ^ Math.floor(k / 4294967296), 0xc2b2ae35);
        h ^= h >>> 16;
      }
      h = Math.imul(h ^ (i + 1), 0x27d4eb2f);
      h ^= h >>> 15;
      mixed.push(h >>> 0);
    }
    [this.#a, this.#b, this.#c, this.#d] = mixed;
    for (let i = 0; i < 12; i++) this.next32();
  }

  /** @returns a uniform 32-bit unsigned integer */
  next32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** @returns a uniform number in [lo, hi) @param lo @default 0 @param hi @default 1 */
  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * (this.next32() / 4294967296);
  }

  /** @returns an integer in [0, n) @param n exclusive upper bound */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** @returns true with probability p @param p probability */
  chance(p: number): boolean {
    return this.uniform() < p;
  }

  /** @returns a standard normal draw (Box-Muller) */
  normal(): number {
    if (this.#spare !== undefined) {
      const s = this.#spare;
      this.#spare = undefined;
      return s;
    }
    const u = 1 - this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.#spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Shuffles `a` in place (Fisher-Yates). @param a array @returns `a` */
  shuffle<T>(a: T[]): T[] {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [a[i], a[j]] = [a[j], a[i]];
    }
    return a;
  }
}

/** Stream ids, so that no two uses of the seed share draws. */
export const STREAM = {
  init: 1,
  order: 2,
  augment: 3,
  dropout: 4,
  finetuneInit: 5,
} as const;
