/**
 * The convolution of an image with few channels (the RGB stem) on WASM, computed directly by
 * byel's `conv_narrow` (`wasm_simd/gemm.c`) on every thread, with its bias and relu when fused.
 * tfjs's `Conv2D` runs it through XNNPACK's igemm. `conv_narrow` takes pairs of output pixels
 * whose windows lie inside the image, each filter row's taps one contiguous run, each weight
 * vector serving both: the quick preset's stem, `[128, 48, 48, 3] * [3, 3, 3, 16]`, 5.4 ms
 * against XNNPACK's 7.2 on 2 threads, fused with bias and relu 5.6 against 7.5 (AMD EPYC, side
 * by side in one run). It adds the products in XNNPACK's order and clamps as it does, so the
 * results have its bits (NaN and infinite weights aside, see the C source).
 *
 * @module
 */
import type { tf } from "../../deps.ts";
import { type Info, output, ptr, type SimdCall, simdKernels, simdSplit } from "./wasm_simd.ts";

/** Widest filter patch (`KH·KW·Cin`) that runs directly: the 3x3 RGB stem's 27, with room. */
export const NARROW_MAX_TAPS = 36;

let _on = true;

/**
 * Test and benchmark hook: whether narrow convolutions run as byel's kernel (default) or as
 * tfjs's; the same bits.
 */
export function setOwnNarrowConv(on: boolean): void {
  _on = on;
}

/** A convolution's geometry as `narrowConv2d` takes it. */
export interface NarrowConv {
  strides: [number, number];
  padTop: number;
  padLeft: number;
  outHeight: number;
  outWidth: number;
  /** `[K]`, added first (fused convolutions). */
  bias?: Info;
  /** `max(0, .)` after the bias and the products. */
  relu: boolean;
}

/**
 * @returns whether `x` `[B, H, W, C]` convolved with `filter` `[KH, KW, C, K]` (dilation 1)
 * runs directly: few taps, K a multiple of 4, float32, the kernels available
 */
export function narrowConvEligible(
  backend: tf.KernelBackend,
  x: Info,
  filter: Info,
  dilations: [number, number],
): boolean {
  const [kh, kw, c, k] = filter.shape;
  return _on && x.dtype === "float32" && filter.dtype === "float32" && x.shape[3] === c &&
    kh * kw * c <= NARROW_MAX_TAPS && k % 4 === 0 && dilations[0] === 1 && dilations[1] === 1 &&
    simdKernels(backend) !== null;
}

/**
 * The convolution (see {@link narrowConvEligible}), rows of the output split across threads.
 *
 * @param x `[B, H, W, C]` @param filter `[KH, KW, C, K]`
 * @returns `[B, outHeight, outWidth, K]`
 */
export function narrowConv2d(
  backend: tf.KernelBackend,
  x: Info,
  filter: Info,
  g: NarrowConv,
): Info {
  const [b, h, w, c] = x.shape, [kh, kw, , k] = filter.shape;
  const y = output(backend, [b, g.outHeight, g.outWidth, k]);
  const [px, pf, py] = [x, filter, y].map((t) => ptr(backend, t));
  const pb = g.bias ? ptr(backend, g.bias) : 0;
  simdSplit(backend, b * g.outHeight, (r0, rows): SimdCall => [
    "conv_narrow",
    px,
    h,
    w,
    c,
    pf,
    kh,
    kw,
    k,
    g.strides[0],
    g.strides[1],
    g.padTop,
    g.padLeft,
    g.outHeight,
    g.outWidth,
    r0,
    r0 + rows,
    pb,
    g.relu ? 1 : 0,
    py,
  ]);
  return y;
}
