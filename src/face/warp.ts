/**
 * Affine resampling for the face stage: one bilinear warp in plain JS (with supersampling when
 * it shrinks), used for the detector's and the landmark model's inputs and for the aligned
 * crop, plus the small affine algebra around it.
 *
 * Coordinates are continuous pixels: pixel (i, j) covers [j, j+1) x [i, i+1), so its centre is
 * (j + 0.5, i + 0.5).
 *
 * @module
 */

/** An RGB image, `[height, width, 3]` interleaved: uint8 in 0..255 or float32 in [0, 1]. */
export interface RgbInput {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** `[height, width, 3]` RGB: uint8 in 0..255 or float32 in [0, 1]. */
  data: Uint8Array | Float32Array;
}

/** A point `[x, y]` in pixels. */
export type Point = [number, number];

/** @returns the midpoint of `a` and `b` */
export function midpoint(a: Point, b: Point): Point {
  return [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
}

/**
 * An affine map from destination pixel coordinates to source pixel coordinates:
 * src = (a*x + b*y + c, d*x + e*y + f), continuous coordinates on both sides.
 */
export type Affine = [number, number, number, number, number, number];

/** Options of {@link warpAffine}. */
export interface WarpOptions {
  /** Output scale: output = sample * scale + offset (per channel value). */
  scale?: number;
  offset?: number;
  /** Border: replicate edge pixels, or a constant RGB colour (in source units). @default edge */
  border?: "edge" | [number, number, number];
  /** Supersampling taps per axis for minification (1 = plain bilinear). @default auto */
  taps?: number;
}

/**
 * Resamples `src` through `m` (destination -> source) into a `[dh, dw, 3]` float32 array,
 * bilinear, with k x k supersampling when the map shrinks the image by more than 2x (one
 * bilinear tap already averages a 2x2 footprint at a 2x shrink): k = ceil(shrink / 2).
 */
export function warpAffine(
  src: RgbInput,
  m: Affine,
  dw: number,
  dh: number,
  opts: WarpOptions = {},
  out = new Float32Array(dw * dh * 3),
): Float32Array {
  const { width: W, height: H, data } = src;
  const scale = opts.scale ?? 1, offset = opts.offset ?? 0;
  const [a, b, c, d, e, f] = m;
  const shrink = Math.max(Math.hypot(a, d), Math.hypot(b, e));
  const k = opts.taps ?? Math.max(1, Math.min(6, Math.ceil(shrink / 2 - 0.05)));
  const border = opts.border ?? "edge";
  const constant = border !== "edge";
  const [br, bg, bb] = constant ? border : [0, 0, 0];
  const wk = scale / (k * k);
  const W1 = W - 1, H1 = H - 1;
  // tap offsets inside the destination pixel
  const offs: number[] = [];
  for (let sy = 0; sy < k; sy++) {
    for (let sx = 0; sx < k; sx++) offs.push((sx + 0.5) / k, (sy + 0.5) / k);
  }
  const nt = k * k;
  if (nt === 1) {
    _warpBilinear(src, m, dw, dh, scale, offset, constant ? [br, bg, bb] : undefined, out);
    return out;
  }
  let o = 0;
  for (let y = 0; y < dh; y++) {
    for (let x = 0; x < dw; x++) {
      let r = 0, g = 0, bl = 0;
      for (let t = 0; t < nt; t++) {
        const px = x + offs[2 * t], py = y + offs[2 * t + 1];
        // index-space source coordinates (pixel centres at integers)
        const u = a * px + b * py + c - 0.5, v = d * px + e * py + f - 0.5;
        if (constant && (u < -0.5 || v < -0.5 || u > W - 0.5 || v > H - 0.5)) {
          r += br, g += bg, bl += bb;
          continue;
        }
        let x0 = Math.floor(u), y0 = Math.floor(v);
        let fx = u - x0, fy = v - y0;
        let dx = 3, dy = W * 3;
        if (x0 < 0) x0 = 0, fx = 0, dx = 0;
        else if (x0 >= W1) x0 = W1, fx = 0, dx = 0;
        if (y0 < 0) y0 = 0, fy = 0, dy = 0;
        else if (y0 >= H1) y0 = H1, fy = 0, dy = 0;
        const p = (y0 * W + x0) * 3, q = p + dy;
        const w00 = (1 - fx) * (1 - fy), w01 = fx * (1 - fy), w10 = (1 - fx) * fy, w11 = fx * fy;
        r += data[p] * w00 + data[p + dx] * w01 + data[q] * w10 + data[q + dx] * w11;
        g += data[p + 1] * w00 + data[p + dx + 1] * w01 + data[q + 1] * w10 +
          data[q + dx + 1] * w11;
        bl += data[p + 2] * w00 + data[p + dx + 2] * w01 + data[q + 2] * w10 +
          data[q + dx + 2] * w11;
      }
      out[o++] = r * wk + offset;
      out[o++] = g * wk + offset;
      out[o++] = bl * wk + offset;
    }
  }
  return out;
}

/**
 * {@link warpAffine}'s one-tap case (no supersampling: the map does not shrink by more than 2x,
 * which is every warp of a face ROI and most detector inputs), with the source position stepped
 * along each row instead of recomputed: the same samples, about twice as fast.
 */
function _warpBilinear(
  src: RgbInput,
  m: Affine,
  dw: number,
  dh: number,
  scale: number,
  offset: number,
  border: [number, number, number] | undefined,
  out: Float32Array,
): void {
  const { width: W, height: H, data } = src;
  const [a, b, c, d, e, f] = m;
  const W1 = W - 1, H1 = H - 1, row = W * 3;
  const br = border ? border[0] * scale + offset : 0;
  const bg = border ? border[1] * scale + offset : 0;
  const bb = border ? border[2] * scale + offset : 0;
  let o = 0;
  for (let y = 0; y < dh; y++) {
    // index-space source coordinates of pixel (0, y)'s centre; each x step adds (a, d)
    let u = 0.5 * a + (y + 0.5) * b + c - 0.5, v = 0.5 * d + (y + 0.5) * e + f - 0.5;
    for (let x = 0; x < dw; x++, u += a, v += d) {
      if (border && (u < -0.5 || v < -0.5 || u > W - 0.5 || v > H - 0.5)) {
        out[o++] = br, out[o++] = bg, out[o++] = bb;
        continue;
      }
      let x0 = Math.floor(u), y0 = Math.floor(v);
      let fx = u - x0, fy = v - y0;
      let dx = 3, dy = row;
      if (x0 < 0) x0 = 0, fx = 0, dx = 0;
      else if (x0 >= W1) x0 = W1, fx = 0, dx = 0;
      if (y0 < 0) y0 = 0, fy = 0, dy = 0;
      else if (y0 >= H1) y0 = H1, fy = 0, dy = 0;
      const p = (y0 * W + x0) * 3, q = p + dy, p1 = p + dx, q1 = q + dx;
      const w00 = (1 - fx) * (1 - fy), w01 = fx * (1 - fy), w10 = (1 - fx) * fy, w11 = fx * fy;
      out[o++] = (data[p] * w00 + data[p1] * w01 + data[q] * w10 + data[q1] * w11) * scale +
        offset;
      out[o++] = (data[p + 1] * w00 + data[p1 + 1] * w01 + data[q + 1] * w10 +
            data[q1 + 1] * w11) * scale + offset;
      out[o++] = (data[p + 2] * w00 + data[p1 + 2] * w01 + data[q + 2] * w10 +
            data[q1 + 2] * w11) * scale + offset;
    }
  }
}

/** @returns `m` applied to `p` */
export function applyAffine(m: Affine, p: Point): Point {
  return [m[0] * p[0] + m[1] * p[1] + m[2], m[3] * p[0] + m[4] * p[1] + m[5]];
}

/** @returns the inverse of `m` */
export function invertAffine(m: Affine): Affine {
  const [a, b, c, d, e, f] = m;
  const det = a * e - b * d;
  const ia = e / det, ib = -b / det, id = -d / det, ie = a / det;
  return [ia, ib, -(ia * c + ib * f), id, ie, -(id * c + ie * f)];
}

/**
 * Map from a `side`-pixel square crop (destination) to the source: crop centre at `centre`,
 * covering `extent` source pixels, its x axis along angle `phi` (radians, y down).
 */
export function roiAffine(centre: Point, extent: number, phi: number, side: number): Affine {
  const s = extent / side, cs = Math.cos(phi) * s, sn = Math.sin(phi) * s, h = side / 2;
  // src = centre + R(phi) * s * (dst - h)
  return [cs, -sn, centre[0] - cs * h + sn * h, sn, cs, centre[1] - sn * h - cs * h];
}

/** @returns 1/255 for uint8 images, 1 for float ones: the factor to [0, 1] */
export function unitScale(img: RgbInput): number {
  return img.data instanceof Uint8Array ? 1 / 255 : 1;
}

/** @returns the mean colour of `img`, in its own units */
export function meanColour(img: RgbInput): [number, number, number] {
  const d = img.data, n = img.width * img.height;
  let r = 0, g = 0, b = 0;
  for (let i = 0; i < n * 3; i += 3) r += d[i], g += d[i + 1], b += d[i + 2];
  return [r / n, g / n, b / n];
}
