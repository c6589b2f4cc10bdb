/**
 * Puts a function in front of one of tfjs's WASM kernels: it gets every call first and answers
 * the cases it takes; for the rest (it returns null) tfjs's own kernel runs. tfjs's kernel
 * keeps its setup and dispose functions. Also registers byel's own WASM kernels (names tfjs
 * does not have).
 *
 * @module
 */
import { tf } from "../../deps.ts";
import { simdKernels } from "./wasm_simd.ts";

/** A kernel's arguments. */
export type KernelArgs = {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs: tf.NamedAttrMap;
};

const _TAG = Symbol("byel.interposed");
const _ORIGINAL = Symbol("byel.original");

/**
 * Registers `first` in front of tfjs's WASM kernel `name`. Idempotent per `tag`.
 *
 * @param name kernel, e.g. `Conv2D` @param tag who interposes (one wrapper per tag)
 * @param first answers a call, or returns null to leave it to tfjs's kernel
 */
export function interposeWasmKernel(
  name: string,
  tag: string,
  first: (args: KernelArgs) => tf.TensorInfo | null,
): void {
  const original = tf.getKernel(name, "wasm");
  if (!original || (original.kernelFunc as { [_TAG]?: string })[_TAG] === tag) return;
  const kernelFunc =
    ((args: KernelArgs) => first(args) ?? original.kernelFunc(args as never)) as tf.KernelFunc;
  (kernelFunc as { [_TAG]?: string })[_TAG] = tag;
  (kernelFunc as { [_ORIGINAL]?: tf.KernelFunc })[_ORIGINAL] = _original(original.kernelFunc);
  tf.unregisterKernel(name, "wasm");
  tf.registerKernel({ ...original, kernelFunc });
}

function _original(f: tf.KernelFunc): tf.KernelFunc {
  return (f as { [_ORIGINAL]?: tf.KernelFunc })[_ORIGINAL] ?? f;
}

/**
 * @returns tfjs's own WASM kernel function `name`, under every function interposed in front of
 * it (the XNNPACK products Winograd falls back to, whatever byel puts before `BatchMatMul`)
 */
export function tfjsWasmKernel(name: string): tf.KernelFunc {
  return _original(tf.getKernel(name, "wasm")!.kernelFunc);
}

/**
 * Registers byel's own kernels (names tfjs does not have) on the WASM backend. Idempotent: a
 * name already registered is left as it is.
 *
 * @param kernels name and kernel function pairs
 */
export function registerOwnWasmKernels(kernels: readonly (readonly [string, unknown])[]): void {
  for (const [name, fn] of kernels) {
    if (tf.getKernel(name, "wasm")) continue;
    tf.registerKernel({ kernelName: name, backendName: "wasm", kernelFunc: fn as tf.KernelFunc });
  }
}

/**
 * @returns whether byel's own WASM kernel `name` can run now: the WASM backend active, the
 * kernel registered (`registerKernels` has run: `selectBackend` does it, a bare
 * `tf.setBackend("wasm")` does not) and byel's module instantiated on the backend's memory
 */
export function ownWasmKernelReady(name: string): boolean {
  return tf.getBackend() === "wasm" && tf.getKernel(name, "wasm") !== undefined &&
    simdKernels(tf.backend()) !== null;
}
