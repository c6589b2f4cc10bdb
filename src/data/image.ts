/**
 * The decoded-image type every image module shares (decoders produce it; resizing, face
 * alignment and caches consume it).
 *
 * @module
 */

/** A decoded image: `[height, width, 3]` uint8 RGB, row-major. */
export interface RgbImage {
  width: number;
  height: number;
  /** `[height, width, 3]` uint8 RGB. */
  data: Uint8Array;
}
