/**
 * The augmentations' per-image 3x3 blur as one WASM kernel over byel's SIMD module
 * (`wasm_simd/augment.c`), used by `src/data/augment.ts` on the WASM backend:
 * `ByelBlur3` `{x, wc, we, wk}` → `[B, H, W, 3]`, `x·c + (edge neighbours)·e + (corners)·k`,
 * reflect-padded, with `[B]` weights. tfjs's composition (mirrorPad, eight slices, addN,
 * three products) took 0.3 s of a BYEL step at 48 px, most of it in Slice's scalar index loop;
 * the kernel computes the same float32 operations in the same order (same bits), in chunks of
 * images on every thread.
 *
 * @module
 */
import { tf } from "../../deps.ts";
import type { Tensor } from "../../tensors.ts";
import { registerOwnWasmKernels } from "./interpose.ts";
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

/** Registers `ByelBlur3` on the WASM backend. Idempotent. */
export function registerWasmAugment(): void {
  registerOwnWasmKernels([["ByelBlur3", _blur3]]);
}

/** @returns whether `ByelBlur3` can run on `x` (float32 RGB, at least 2x2, active WASM backend) */
export function wasmBlurAvailable(x: Tensor): boolean {
  const [, h = 0, w = 0, c = 0] = x.shape;
  return tf.getBackend() === "wasm" && x.dtype === "float32" && x.rank === 4 && c === 3 &&
    h >= 2 && w >= 2 && simdKernels(tf.backend()) !== null;
}
