/**
 * `Identity` on WASM without a copy. tfjs's WASM kernel copies the tensor's data, and tfjs runs
 * it for every `tf.clone`, including each tensor a custom gradient saves for its backward pass
 * (`save([...])` clones): in a training step of the quick preset, six copies of the largest
 * activations, 33 ms of a 1.1 s step. The CPU backend shares the data instead (one more
 * reference to it), which is what this kernel does on WASM: tensors are immutable, and no
 * kernel of tfjs or byel writes into its inputs, so a shared buffer is never changed under a
 * tensor; it is freed when its last tensor is.
 *
 * @module
 */
import type { tf } from "../../deps.ts";
import { interposeWasmKernel, type KernelArgs } from "./interpose.ts";

/** @returns the input, shared (strings keep tfjs's kernel) */
export function sharedIdentity(args: KernelArgs): tf.TensorInfo | null {
  const { x } = args.inputs as { x: tf.TensorInfo };
  if (x.dtype === "string") return null;
  (args.backend as tf.KernelBackend & { incRef(id: object): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/** Puts {@link sharedIdentity} in front of tfjs's WASM `Identity`. Idempotent. */
export function registerWasmIdentity(): void {
  interposeWasmKernel("Identity", "shared-identity", sharedIdentity);
}
