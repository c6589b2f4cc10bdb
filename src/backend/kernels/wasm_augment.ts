/**
 * The augmentations' kernels over byel's SIMD module (`wasm_simd/augment.c`), used by
 * `src/data/augment.ts` on the WASM backend:
 *
 * - `ByelBlur3` `{x, wc, we, wk}` → `[B, H, W, 3]`, the per-image 3x3 blur
 *   `x·c + (edge neighbours)·e + (corners)·k`, reflect-padded, with `[B]` weights. tfjs's
 *   composition (mirrorPad, eight slices, addN, three products) took 0.3 s of a BYEL step at
 *   48 px, most of it in Slice's scalar index loop.
 * - tfjs's `Transform` (`tf.image.transform`, the warp) with bilinear interpolation and fill
 *   mode `nearest`, the augmentations' case, is answered here: tfjs-wasm runs it as a scalar
 *   loop on one thread (30 ms of a quick supervised step's 550).
 *
 * Both compute the same float32 operations in the same order as what they replace (same
 * bits), in chunks of images on every thread.
 *
 * @module
 */
import type { tf } from "../../deps.ts";
import type { Tensor } from "../../tensors.ts";
import {
  interposeWasmKernel,
  type KernelArgs,
  ownWasmKernelReady,
  registerOwnWasmKernels,
} from "./interpose.ts";
import { type Info, output, ptr, type SimdCall, simdKernels, simdSplit } from "./wasm_simd.ts";

type Args = { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend };

function _blur3({ inputs, backend }: Args): Info {
  const { x, wc, we, wk } = inputs as Record<string, Info>;
  const [b, h, w] = x.shape;
  const out = output(backend, x.shape);
  const [px, pc, pe, pk, po] = [x, wc, we, wk, out].map((t) => ptr(backend, t));
  const img = 4 * h * w * 3;
  simdSplit(backend, b, (b0, n): SimdCall => [
    "blur3",
    px + b0 * img,
    n,
    h,
    w,
    pc + 4 * b0,
    pe + 4 * b0,
    pk + 4 * b0,
    po + b0 * img,
  ]);
  return out;
}

let _ownWarp = true;

/**
 * Test and benchmark hook: whether the warp's case of `Transform` runs as byel's kernel
 * (default) or as tfjs's; both give the same bits.
 */
export function setOwnWarp(on: boolean): void {
  _ownWarp = on;
}

/** `Transform` with bilinear interpolation and `nearest` fill on byel's kernel, else null. */
function _warp({ inputs, backend, attrs }: KernelArgs): Info | null {
  const { image, transforms } = inputs as Record<string, Info>;
  const { interpolation, fillMode, fillValue, outputShape } = attrs as {
    interpolation: string;
    fillMode: string;
    fillValue: number;
    outputShape?: [number, number] | null;
  };
  if (
    !_ownWarp || interpolation !== "bilinear" || fillMode !== "nearest" ||
    image.dtype !== "float32" || transforms.dtype !== "float32" || image.shape.length !== 4 ||
    simdKernels(backend) === null
  ) return null;
  const [b, h, w, c] = image.shape;
  const [oh, ow] = outputShape ?? [h, w];
  const out = output(backend, [b, oh, ow, c]);
  const [pi, pt, po] = [image, transforms, out].map((t) => ptr(backend, t));
  const perImage = transforms.shape[0] > 1; // tfjs's rule: one row serves every image
  simdSplit(backend, b, (b0, n): SimdCall => [
    "warp_bilinear_nearest",
    pi + 4 * b0 * h * w * c,
    pt + (perImage ? 4 * 8 * b0 : 0),
    perImage ? 1 : 0,
    n,
    h,
    w,
    c,
    oh,
    ow,
    fillValue,
    po + 4 * b0 * oh * ow * c,
  ]);
  return out;
}

/** Registers `ByelBlur3` and the warp's `Transform` on the WASM backend. Idempotent. */
export function registerWasmAugment(): void {
  registerOwnWasmKernels([["ByelBlur3", _blur3]]);
  interposeWasmKernel("Transform", "byel-warp", _warp);
}

/** @returns whether `ByelBlur3` can run on `x` (float32 RGB, at least 2x2, active WASM backend) */
export function wasmBlurAvailable(x: Tensor): boolean {
  const [, h = 0, w = 0, c = 0] = x.shape;
  return x.dtype === "float32" && x.rank === 4 && c === 3 && h >= 2 && w >= 2 &&
    ownWasmKernelReady("ByelBlur3");
}
