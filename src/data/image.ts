/**
 * The decoded-image type every image module shares (decoders produce it; resizing, face
 * alignment and caches consume it).
 *
 * @module
 */

/** A decoded image: `[height, width, 3]` uint8 RGB, row-major. */
export interface RgbImage {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** `[height, width, 3]` uint8 RGB. */
  data: Uint8Array;
}
