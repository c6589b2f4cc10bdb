/**
 * The max-pool gradient as one WASM kernel over byel's SIMD module (`wasm_simd/pool.c`), used
 * by `../max_pool.ts` on the WASM backend: `ByelMaxPoolGrad` `{x, dy}`,
 * `{size, stride, pad, firstWins}` → `[B, H, W, C]`, each output's gradient added to its
 * window's first maximum. It gives the bits of the plain-JS loop it replaces
 * (`maxPoolGradLoop`), in chunks of images on every thread.
 *
 * @module
 */
import { tf } from "../../deps.ts";
import type { Tensor4D } from "../../tensors.ts";
import { type KernelArgs, registerOwnWasmKernels } from "./interpose.ts";
import { type Info, output, ptr, type SimdCall, simdKernels, simdSplit } from "./wasm_simd.ts";

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

/** Registers `ByelMaxPoolGrad` on the WASM backend. Idempotent. */
export function registerWasmPool(): void {
  registerOwnWasmKernels([["ByelMaxPoolGrad", _maxPoolGrad]]);
}

/** @returns whether `ByelMaxPoolGrad` can run on `x`, `dy` (float32, active WASM backend) */
export function wasmPoolAvailable(x: Tensor4D, dy: Tensor4D): boolean {
  return tf.getBackend() === "wasm" && x.dtype === "float32" && dy.dtype === "float32" &&
    simdKernels(tf.backend()) !== null;
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
