/**
 * The one interface every image source implements (the synthetic generator, ImageFolder and
 * LSD readers, prepared caches), so training and evaluation consume them alike.
 *
 * @module
 */

/** A batch of square RGB images with their labels. */
export interface Batch {
  /** `[n, size, size, 3]` float32 in [0, 1], row-major, RGB. */
  images: Float32Array;
  /** `[n]` class indices 0..5 in `EMOTIONS` order (-1 where unknown, e.g. an unlabelled test set). */
  labels: Int32Array;
  /** Number of images. */
  n: number;
  /** Side of each square image in pixels. */
  size: number;
}

/** An indexable, labelled set of square images. */
export interface Dataset {
  /** Human-readable description for logs, e.g. `synthetic(seed 1, 20000 @ 64px)`. */
  readonly name: string;
  /** Number of images. */
  readonly length: number;
  /** Side of the square images it returns. */
  readonly size: number;
  /**
   * Class index of image `i` (cheap: no decoding or rendering).
   *
   * @param i 0 <= i < length
   * @returns 0..5, or -1 when unlabelled
   */
  label(i: number): number;
  /**
   * Renders or decodes the images at `indices`.
   *
   * @param indices image indices, any order, repeats allowed
   * @returns the images in the order of `indices`
   */
  batch(indices: readonly number[]): Promise<Batch>;
}
