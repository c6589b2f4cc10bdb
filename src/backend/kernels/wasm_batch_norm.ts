/**
 * BatchNorm in training as three WASM kernels over byel's SIMD module (`wasm_simd/batch_norm.c`),
 * used by `batchNormTrain` (`../batch_norm.ts`) on the WASM backend:
 *
 * - `ByelBnStats` `{x}` → `[mean, variance]` (biased), per channel;
 * - `ByelBnNorm` `{x, mean, variance, gamma, beta}`, `{epsilon}` → `[y, xHat, invStd]`;
 * - `ByelBnGrad` `{dy, xHat, gamma, invStd}` → `[dx, dGamma, dBeta]` (the closed form).
 *
 * Each is one or two passes over the data; tfjs's route took two transposing reductions for
 * the statistics and about ten full-size elementwise kernels for the forward and backward.
 * `x` is `[..., C]` with C a multiple of 4, float32.
 *
 * @module
 */
import { tf } from "../../deps.ts";
import { free, type Info, output, ptr, simdKernels } from "./wasm_simd.ts";
import type { Tensor } from "../../tensors.ts";

type Args = { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs: tf.NamedAttrMap };

function _rowsAndChannels(x: Info): [number, number] {
  const c = x.shape[x.shape.length - 1];
  return [tf.util.sizeFromShape(x.shape) / c, c];
}

function _stats({ inputs, backend }: Args): Info[] {
  const { x } = inputs as { x: Info };
  const k = simdKernels(backend)!;
  const [rows, c] = _rowsAndChannels(x);
  const mean = output(backend, [c]), variance = output(backend, [c]), tmp = output(backend, [c]);
  k.bn_stats(
    ptr(backend, x),
    rows,
    c,
    ptr(backend, mean),
    ptr(backend, variance),
    ptr(backend, tmp),
  );
  free(backend, [tmp]);
  return [mean, variance];
}

function _norm({ inputs, backend, attrs }: Args): Info[] {
  const { x, mean, variance, gamma, beta } = inputs as Record<string, Info>;
  const k = simdKernels(backend)!;
  const [rows, c] = _rowsAndChannels(x);
  const y = output(backend, x.shape), xHat = output(backend, x.shape);
  const invStd = output(backend, [c]);
  const p = (t: Info) => ptr(backend, t);
  k.bn_norm(
    p(x),
    rows,
    c,
    p(mean),
    p(variance),
    attrs.epsilon as number,
    p(gamma),
    p(beta),
    p(y),
    p(xHat),
    p(invStd),
  );
  return [y, xHat, invStd];
}

function _grad({ inputs, backend }: Args): Info[] {
  const { dy, xHat, gamma, invStd } = inputs as Record<string, Info>;
  const k = simdKernels(backend)!;
  const [rows, c] = _rowsAndChannels(dy);
  const dx = output(backend, dy.shape), dGamma = output(backend, [c]), dBeta = output(backend, [c]);
  const tmp = output(backend, [c]);
  const p = (t: Info) => ptr(backend, t);
  k.bn_grad(p(dy), p(xHat), rows, c, p(gamma), p(invStd), p(dx), p(dGamma), p(dBeta), p(tmp));
  free(backend, [tmp]);
  return [dx, dGamma, dBeta];
}

/** Registers the three kernels on the WASM backend. Idempotent. */
export function registerWasmBatchNorm(): void {
  for (
    const [name, fn] of [
      ["ByelBnStats", _stats],
      ["ByelBnNorm", _norm],
      ["ByelBnGrad", _grad],
    ] as const
  ) {
    if (tf.getKernel(name, "wasm")) continue;
    tf.registerKernel({ kernelName: name, backendName: "wasm", kernelFunc: fn as tf.KernelFunc });
  }
}

/** @returns whether `batchNormTrain` of `x` can run on these kernels (active backend WASM) */
export function wasmBatchNormAvailable(x: Tensor): boolean {
  return tf.getBackend() === "wasm" && x.dtype === "float32" &&
    x.shape[x.shape.length - 1] % 4 === 0 && simdKernels(tf.backend()) !== null;
}
