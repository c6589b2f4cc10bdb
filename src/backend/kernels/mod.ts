/**
 * Kernel registrations that make every backend complete and fast for training. They register
 * when this module is imported (and again, idempotently, from `selectBackend`).
 *
 * What a ResNet training step needs and tfjs 4.22 lacks or runs slowly:
 * - WASM `Conv2DBackpropFilter` (missing) and `Conv2DBackpropInput` (scalar loop): see
 *   `wasm_conv_grads.ts`.
 * - WASM 3x3 stride-1 convolutions (forward, and the input gradient, which is one): Winograd
 *   F(2x2, 3x3), F(4x4, 3x3) and (outputs of 6, 12, 24, 48 px) F(6x6, 3x3), see `winograd.ts`;
 *   convolutions of images with few channels (the RGB stem) computed directly,
 *   `wasm_conv_narrow.ts`.
 * - WASM `BatchMatMul` with a transposed operand (scalar loop in tfjs): `wasm_matmul.ts`.
 * - WASM `Identity` (`tf.clone`, and every tensor a custom gradient saves) copies its input:
 *   `wasm_identity.ts` shares it, as the CPU backend does.
 * - The optimizer's update and moving averages: a dozen elementwise kernels per parameter,
 *   one each on WASM (`wasm_optim.ts`).
 * - The augmentations' blur (eight scalar-loop slices in tfjs) and warp (`Transform`, a scalar
 *   loop on one thread in tfjs-wasm): one threaded kernel each on WASM (`wasm_augment.ts`).
 * - WASM max-pool gradients (tfjs's MaxPoolGrad routes to the wrong elements when channels > 2)
 *   and the 2x2 pool's forward on every thread: `wasm_pool.ts`, used by `../max_pool.ts`.
 * - In evaluation, a VGG stage's last convolution and its 2x2 pool in one pass on WASM, the
 *   pool taken from the Winograd output tiles: `wasm_conv_pool.ts`, used by `../conv_pool.ts`.
 * - WASM broadcast `Add`, `Sub`, `Multiply`, `RealDiv` (a scalar loop computing every
 *   element's broadcast index in tfjs-wasm): `wasm_binary.ts`.
 * - CPU `Transform` (tf.image.transform, the augmentations' warp) for batches: `cpu_transform.ts`.
 * - BatchNorm's gradient: not a kernel but a custom gradient, `batchNormTrain` in
 *   `../batch_norm.ts`; on WASM its statistics, normalisation and gradient are three kernels of
 *   byel's SIMD module, see `wasm_batch_norm.ts`.
 *
 * @module
 */
import { registerCpuTransform } from "./cpu_transform.ts";
import { registerWasmConvGrads } from "./wasm_conv_grads.ts";
import { registerWinograd } from "./winograd.ts";
import { registerWasmBatchNorm } from "./wasm_batch_norm.ts";
import { registerWasmMatMul } from "./wasm_matmul.ts";
import { registerWasmIdentity } from "./wasm_identity.ts";
import { registerWasmOptim } from "./wasm_optim.ts";
import { registerWasmAugment } from "./wasm_augment.ts";
import { registerWasmPool } from "./wasm_pool.ts";
import { registerWasmConvPool } from "./wasm_conv_pool.ts";
import { registerWasmBinary } from "./wasm_binary.ts";

/** Registers our kernels on every backend that needs them. Idempotent. */
export function registerKernels(): void {
  registerCpuTransform();
  registerWasmConvGrads();
  registerWinograd();
  registerWasmBatchNorm();
  registerWasmMatMul();
  registerWasmIdentity();
  registerWasmOptim();
  registerWasmAugment();
  registerWasmPool();
  registerWasmConvPool();
  registerWasmBinary();
}

registerKernels();
