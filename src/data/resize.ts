/**
 * Resizing decoded images to the model's square input.
 *
 * Non-square images are **centre-cropped** to a square on their shorter side, then resized:
 * face crops are usually centred on the face, so a centre crop keeps the face at the scale the
 * model trained on, where padding would shrink it and add borders the training data never had.
 *
 * Shrinking averages areas (each output pixel is the exact, fractionally weighted mean of the
 * source pixels it covers, like OpenCV's `INTER_AREA`); enlarging is bicubic (Keys a = -0.5,
 * as PIL, the recipe's 128 px bicubic resize) or bilinear, with half-pixel centres and edge
 * replication. Both passes are separable (rows, then columns), and the result is rounded to uint8.
 *
 * @module
 */
import type { RgbImage } from "./image.ts";

/** How to enlarge images smaller than the target (shrinking always averages areas). */
export type Upscale = "bicubic" | "bilinear";

/** Options for {@link resizeSquare}. */
export interface ResizeOptions {
  /** Filter used when enlarging. @default "bicubic" */
  upscale?: Upscale;
}

/** Per-output-pixel source taps along one axis. */
interface _Taps {
  /** first source index for each output pixel */
  start: Int32Array;
  /** number of taps for each output pixel */
  count: Int32Array;
  /** `[out, maxTaps]` weights */
  weights: Float64Array;
  maxTaps: number;
}

/**
 * Taps along one axis mapping `inLen` source pixels to `outLen` output pixels.
 *
 * @param inLen source length
 * @param outLen output length
 * @param upscale filter when `outLen > inLen`
 * @returns the taps; indices are clamped to `[0, inLen)`, so edge pixels repeat
 */
export function axisTaps(inLen: number, outLen: number, upscale: Upscale = "bicubic"): _Taps {
  const scale = inLen / outLen;
  if (scale >= 1) {
    // Area averaging: output i covers source [i * scale, (i + 1) * scale).
    const maxTaps = Math.ceil(scale) + 1;
    const start = new Int32Array(outLen), count = new Int32Array(outLen);
    const weights = new Float64Array(outLen * maxTaps);
    for (let i = 0; i < outLen; i++) {
      const lo = i * scale, hi = lo + scale;
      const j0 = Math.floor(lo), j1 = Math.min(inLen, Math.ceil(hi - 1e-9));
      start[i] = j0;
      count[i] = j1 - j0;
      for (let j = j0; j < j1; j++) {
        weights[i * maxTaps + j - j0] = (Math.min(hi, j + 1) - Math.max(lo, j)) / scale;
      }
    }
    return { start, count, weights, maxTaps };
  }
  const maxTaps = 4;
  const start = new Int32Array(outLen), count = new Int32Array(outLen).fill(maxTaps);
  const weights = new Float64Array(outLen * maxTaps);
  for (let i = 0; i < outLen; i++) {
    const center = (i + 0.5) * scale - 0.5;
    const j0 = Math.floor(center);
    const t = center - j0;
    start[i] = j0 - 1;
    const w = upscale === "bilinear" ? [0, 1 - t, t, 0] : [
      _cubic(1 + t),
      _cubic(t),
      _cubic(1 - t),
      _cubic(2 - t),
    ];
    const sum = w[0] + w[1] + w[2] + w[3];
    for (let k = 0; k < 4; k++) weights[i * maxTaps + k] = w[k] / sum;
  }
  return { start, count, weights, maxTaps };
}

/** Keys' cubic convolution kernel with a = -0.5 (PIL's bicubic). */
function _cubic(x: number): number {
  const a = -0.5;
  x = Math.abs(x);
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

/**
 * Centre-crops an RGB image to a square and resizes it to `size` x `size`.
 *
 * @param img `[h, w, 3]` uint8 RGB
 * @param size output side in pixels (>= 1)
 * @param options the enlarging filter
 * @returns `[size, size, 3]` uint8 RGB
 * @example
 * ```ts
 * const small = resizeSquare({ width: 4, height: 2, data: new Uint8Array(24) }, 1);
 * ```
 */
export function resizeSquare(img: RgbImage, size: number, options: ResizeOptions = {}): Uint8Array {
  const side = Math.min(img.width, img.height);
  const x0 = Math.floor((img.width - side) / 2);
  const y0 = Math.floor((img.height - side) / 2);
  const out = new Uint8Array(size * size * 3);
  if (side === size) {
    // Same size: copy the crop.
    for (let y = 0; y < size; y++) {
      const from = ((y0 + y) * img.width + x0) * 3;
      out.set(img.data.subarray(from, from + size * 3), y * size * 3);
    }
    return out;
  }
  const taps = axisTaps(side, size, options.upscale ?? "bicubic");
  const last = side - 1;
  // Horizontal pass: side rows x size columns, float.
  const tmp = new Float64Array(side * size * 3);
  const src = img.data, w = img.width;
  for (let y = 0; y < side; y++) {
    const rowBase = (y0 + y) * w;
    for (let i = 0; i < size; i++) {
      let r = 0, g = 0, b = 0;
      const s = taps.start[i], c = taps.count[i], wo = i * taps.maxTaps;
      for (let k = 0; k < c; k++) {
        const j = s + k;
        const jj = j < 0 ? 0 : j > last ? last : j;
        const p = (rowBase + x0 + jj) * 3;
        const wt = taps.weights[wo + k];
        r += src[p] * wt;
        g += src[p + 1] * wt;
        b += src[p + 2] * wt;
      }
      const q = (y * size + i) * 3;
      tmp[q] = r;
      tmp[q + 1] = g;
      tmp[q + 2] = b;
    }
  }
  // Vertical pass into uint8 (Uint8Array assignment would truncate, so round and clamp here).
  for (let i = 0; i < size; i++) {
    const s = taps.start[i], c = taps.count[i], wo = i * taps.maxTaps;
    for (let x = 0; x < size; x++) {
      let r = 0, g = 0, b = 0;
      for (let k = 0; k < c; k++) {
        const j = s + k;
        const jj = j < 0 ? 0 : j > last ? last : j;
        const p = (jj * size + x) * 3;
        const wt = taps.weights[wo + k];
        r += tmp[p] * wt;
        g += tmp[p + 1] * wt;
        b += tmp[p + 2] * wt;
      }
      const q = (i * size + x) * 3;
      out[q] = _u8(r);
      out[q + 1] = _u8(g);
      out[q + 2] = _u8(b);
    }
  }
  return out;
}

function _u8(v: number): number {
  const r = Math.round(v);
  return r < 0 ? 0 : r > 255 ? 255 : r;
}
