/**
 * Max pooling as WASM kernels over byel's SIMD module (`wasm_simd/pool.c`), used by
 * `../max_pool.ts` on the WASM backend, both in chunks of images on every thread:
 * - `ByelMaxPoolGrad` `{x, dy}`, `{size, stride, pad, firstWins}` → `[B, H, W, C]`, each
 *   output's gradient added to its window's first maximum. It gives the bits of the plain-JS
 *   loop it replaces (`maxPoolGradLoop`).
 * - `ByelMaxPool2x2` `{x}` → `[B, H / 2, W / 2, C]` (C a multiple of 4), the 2x2 stride-2 pool:
 *   each window's first maximum (the value of the pixel the gradient goes to, NaN included),
 *   for values without NaN the maximum, as tfjs's XNNPACK pool.
 *
 * @module
 */
import { tf } from "../../deps.ts";
import type { Tensor4D } from "../../tensors.ts";
import { type KernelArgs, ownWasmKernelReady, registerOwnWasmKernels } from "./interpose.ts";
import { type Info, output, ptr, type SimdCall, simdSplit } from "./wasm_simd.ts";

/** A max pool's square window. */
export interface PoolWindow {
  /** Window side in pixels. */
  size: number;
  /** Step between windows in pixels. */
  stride: number;
  /** Rows and columns of padding before the image (padding never wins). */
  pad: number;
  /**
   * Whether a window starts from its first pixel as the maximum (the 2x2 pool: a window of NaN
   * or -Infinity still passes its gradient on) or from -Infinity with no winner (the 3x3 pool).
   * Only for windows that always hold a pixel (no padding).
   */
  firstWins: boolean;
}

function _maxPoolGrad({ inputs, backend, attrs }: KernelArgs): Info {
  const { x, dy } = inputs as Record<string, Info>;
  const { size, stride, pad, firstWins } = attrs as unknown as PoolWindow;
  const [, h, w, c] = x.shape, [b, oh, ow] = dy.shape;
  const out = output(backend, x.shape);
  const [px, pdy, po] = [x, dy, out].map((t) => ptr(backend, t));
  const img = 4 * h * w * c, gimg = 4 * oh * ow * c;
  simdSplit(backend, b, (b0, n): SimdCall => [
    "maxpool_grad",
    px + b0 * img,
    pdy + b0 * gimg,
    n,
    h,
    w,
    c,
    oh,
    ow,
    size,
    stride,
    pad,
    firstWins ? 1 : 0,
    po + b0 * img,
  ]);
  return out;
}

function _maxPool2x2({ inputs, backend }: KernelArgs): Info {
  const { x } = inputs as Record<string, Info>;
  const [b, h, w, c] = x.shape, oh = Math.floor(h / 2), ow = Math.floor(w / 2);
  const out = output(backend, [b, oh, ow, c]);
  const px = ptr(backend, x), po = ptr(backend, out);
  const img = 4 * h * w * c, oimg = 4 * oh * ow * c;
  simdSplit(backend, b, (b0, n): SimdCall => [
    "maxpool2",
    px + b0 * img,
    n,
    h,
    w,
    c,
    po + b0 * oimg,
  ]);
  return out;
}

/** Registers `ByelMaxPoolGrad` and `ByelMaxPool2x2` on the WASM backend. Idempotent. */
export function registerWasmPool(): void {
  registerOwnWasmKernels([["ByelMaxPoolGrad", _maxPoolGrad], ["ByelMaxPool2x2", _maxPool2x2]]);
}

/** @returns whether `ByelMaxPool2x2` can run on `x` (float32, C a multiple of 4, active WASM) */
export function wasmMaxPool2x2Available(x: Tensor4D): boolean {
  return x.dtype === "float32" && x.shape[3] % 4 === 0 && ownWasmKernelReady("ByelMaxPool2x2");
}

/**
 * Runs `ByelMaxPool2x2` (see {@link wasmMaxPool2x2Available}).
 *
 * @param x `[B, H, W, C]`
 * @returns `[B, floor(H / 2), floor(W / 2), C]`
 */
export function maxPool2x2Wasm(x: Tensor4D): Tensor4D {
  return tf.engine().runKernel("ByelMaxPool2x2", { x }) as Tensor4D;
}

/** @returns whether `ByelMaxPoolGrad` can run on `x`, `dy` (float32, active WASM backend) */
export function wasmPoolAvailable(x: Tensor4D, dy: Tensor4D): boolean {
  return x.dtype === "float32" && dy.dtype === "float32" && ownWasmKernelReady("ByelMaxPoolGrad");
}

/**
 * Runs `ByelMaxPoolGrad` (see {@link wasmPoolAvailable}).
 *
 * @param x `[B, H, W, C]` the pool's input @param dy `[B, OH, OW, C]` upstream gradient
 * @returns `[B, H, W, C]`
 */
export function maxPoolGradWasm(x: Tensor4D, dy: Tensor4D, w: PoolWindow): Tensor4D {
  const attrs = { ...w } as unknown as tf.NamedAttrMap;
  return tf.engine().runKernel("ByelMaxPoolGrad", { x, dy }, attrs) as Tensor4D;
}
