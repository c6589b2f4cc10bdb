/**
 * BatchNorm for training, with a hand-written gradient.
 *
 * The stock tfjs `FusedBatchNorm` gradient broadcasts by materialising tiled copies of the
 * per-channel vectors and, used with `tf.moments`, differentiates through the statistics with
 * several more full-size tensors. The closed form below needs five elementwise passes and two
 * reductions, all with broadcasting of `[C]` vectors (no tiles), on every backend:
 *
 *   x̂ = (x − μ)·σ⁻¹,  y = γ·x̂ + β
 *   dβ = Σ dy,  dγ = Σ dy·x̂,  dx = (γ·σ⁻¹ / M)·(M·dy − dβ − x̂·dγ)
 *
 * where the sums and M run over every axis but the last (batch and pixels).
 *
 * @module
 */
import { tf } from "../deps.ts";
import { wasmBatchNormAvailable } from "./kernels/wasm_batch_norm.ts";
import type { NamedTensorMap, Tensor, Tensor1D } from "../tensors.ts";

/** What {@link batchNormTrain} returns. */
export interface BatchNormResult<T extends Tensor> {
  /** The normalised, scaled and shifted input; same shape as `x`. */
  y: T;
  /** Batch mean per channel, `[C]` (for the running average; no gradient flows through it). */
  mean: Tensor1D;
  /** Biased batch variance per channel, `[C]` (for the running average). */
  variance: Tensor1D;
}

/**
 * Batch normalisation in training mode: normalises with the batch's own statistics, and its
 * gradient includes the path through those statistics (as in PyTorch's `BatchNorm2d.train()`).
 *
 * @param x `[B, H, W, C]` or `[B, C]` float32
 * @param gamma scale, `[C]`
 * @param beta shift, `[C]`
 * @param epsilon added to the variance @default 1e-5
 * @returns `y` (like `x`), and the batch `mean` and biased `variance` (`[C]`)
 * @example
 * ```ts
 * const { y, mean, variance } = batchNormTrain(x, gamma, beta);
 * runningMean.assign(tf.add(tf.mul(runningMean, 0.9), tf.mul(mean, 0.1)));
 * ```
 */
export function batchNormTrain<T extends Tensor>(
  x: T,
  gamma: Tensor1D,
  beta: Tensor1D,
  epsilon = 1e-5,
): BatchNormResult<T> {
  if (wasmBatchNormAvailable(x)) return _batchNormTrainWasm(x, gamma, beta, epsilon);
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  // The statistics are computed outside the custom gradient and enter it only by closure: the
  // tape then sees no path from them to `y`, so autodiff never differentiates tf.moments (the
  // closed form already accounts for them).
  const { mean, variance } = tf.moments(x, axes) as { mean: Tensor1D; variance: Tensor1D };
  const f = tf.customGrad((xIn, g, b, save) => {
    const invStd = tf.rsqrt(tf.add(variance, epsilon)); // [C]
    const xHat = tf.mul(tf.sub(xIn as Tensor, mean), invStd);
    (save as tf.GradSaveFunc)([xHat, g as Tensor, invStd]);
    return {
      value: tf.add(tf.mul(xHat, g as Tensor), b as Tensor),
      gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
        const [xh, gm, is] = saved;
        const d = dy as Tensor;
        const m = d.size / d.shape[d.shape.length - 1];
        const dBeta = tf.sum(d, axes);
        const dGamma = tf.sum(tf.mul(d, xh), axes);
        const scale = tf.div(tf.mul(gm, is), m); // [C]
        const inner = tf.sub(tf.sub(tf.mul(d, m), dBeta), tf.mul(xh, dGamma));
        return [tf.mul(inner, scale), dGamma, dBeta];
      },
    };
  });
  const y = f(x, gamma, beta) as T;
  return { y, mean, variance };
}

/** {@link batchNormTrain} on byel's WASM kernels (`kernels/wasm_batch_norm.ts`): same maths. */
function _batchNormTrainWasm<T extends Tensor>(
  x: T,
  gamma: Tensor1D,
  beta: Tensor1D,
  epsilon: number,
): BatchNormResult<T> {
  const run = (name: string, inputs: NamedTensorMap, attrs = {}) =>
    tf.engine().runKernel(name, inputs, attrs) as unknown as Tensor[];
  const [mean, variance] = run("ByelBnStats", { x }) as Tensor1D[];
  const f = tf.customGrad((xIn, g, b, save) => {
    const [y, xHat, invStd] = run(
      "ByelBnNorm",
      { x: xIn as Tensor, mean, variance, gamma: g as Tensor, beta: b as Tensor },
      { epsilon },
    );
    (save as tf.GradSaveFunc)([xHat, g as Tensor, invStd]);
    return {
      value: y,
      gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
        const [xh, gm, is] = saved;
        return run("ByelBnGrad", { dy: dy as Tensor, xHat: xh, gamma: gm, invStd: is });
      },
    };
  });
  const y = f(x, gamma, beta) as T;
  return { y, mean, variance };
}
