/**
 * `MemoryCache`: a {@link Dataset} that keeps every image it has produced as uint8 in memory, so
 * a multi-epoch run renders (or decodes) each training image once instead of once per epoch.
 *
 * Images are stored quantised to 8 bits, and returned quantised on first use too, so what a step
 * sees does not depend on whether an image was cached yet (a resumed run sees the same pixels).
 * For the generator that is the precision of a real photograph; decoded photos were 8-bit
 * already, so for them nothing changes.
 *
 * @module
 */
import { UserError } from "../errors.ts";
import type { Batch, Dataset } from "./dataset.ts";

/**
 * Bytes that caching all of `dataset` takes.
 *
 * @param dataset the set to cache
 * @returns `length * size * size * 3`
 */
export function memoryCacheBytes(dataset: Dataset): number {
  return dataset.length * dataset.size * dataset.size * 3;
}

/** A dataset whose images are produced once by `inner`, then served from memory. */
export class MemoryCache implements Dataset {
  readonly name: string;
  readonly length: number;
  readonly size: number;
  readonly #inner: Dataset;
  /** `[length, size, size, 3]` uint8, filled as images are first asked for. */
  readonly #pixels: Uint8Array;
  readonly #have: Uint8Array;
  #cached = 0;

  /**
   * Wraps `inner` (nothing is produced until a batch is asked for).
   *
   * @param inner the dataset to cache
   */
  constructor(inner: Dataset) {
    this.#inner = inner;
    this.name = inner.name;
    this.length = inner.length;
    this.size = inner.size;
    this.#pixels = new Uint8Array(memoryCacheBytes(inner));
    this.#have = new Uint8Array(inner.length);
  }

  /** How many distinct images are held so far. */
  get cached(): number {
    return this.#cached;
  }

  /**
   * The class of an image (from the inner dataset).
   *
   * @param i image index
   * @returns class index 0..5, or -1 when unlabelled
   */
  label(i: number): number {
    return this.#inner.label(i);
  }

  /**
   * The images at `indices`: cached ones from memory, the rest from the inner dataset (one
   * batch call for all of them), stored as they arrive.
   *
   * @param indices image indices, any order, repeats allowed
   * @returns `[n, size, size, 3]` float32 in [0, 1] (multiples of 1/255) and their labels
   */
  async batch(indices: readonly number[]): Promise<Batch> {
    const px = this.size * this.size * 3;
    const missing = [...new Set(indices.filter((i) => !this.#have[i]))];
    if (missing.length > 0) {
      const b = await this.#inner.batch(missing);
      for (let k = 0; k < missing.length; k++) {
        const i = missing[k];
        if (this.#have[i]) continue; // filled by a concurrent call meanwhile
        const dst = this.#pixels.subarray(i * px, (i + 1) * px);
        const src = b.images.subarray(k * px, (k + 1) * px);
        for (let j = 0; j < px; j++) {
          const v = src[j];
          if (!(v === v)) {
            throw new UserError(`${this.name}: image ${i} has NaN pixel values; check the source`);
          }
          dst[j] = v <= 0 ? 0 : v >= 1 ? 255 : Math.round(v * 255);
        }
        this.#have[i] = 1;
        this.#cached++;
      }
    }
    const n = indices.length;
    const images = new Float32Array(n * px);
    const labels = new Int32Array(n);
    for (let k = 0; k < n; k++) {
      const i = indices[k];
      const src = this.#pixels.subarray(i * px, (i + 1) * px);
      const o = k * px;
      for (let j = 0; j < px; j++) images[o + j] = src[j] / 255;
      labels[k] = this.label(i);
    }
    return { images, labels, n, size: this.size };
  }
}
