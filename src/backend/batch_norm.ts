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

let _fuseRelu = true;

/**
 * Test and benchmark hook: whether the WASM kernels fuse a following relu (default) or leave it
 * to tfjs's `Relu` and its gradient's `Cast`, `Step` and `Multiply`; both give the same bits.
 */
export function setFusedBnRelu(on: boolean): void {
  _fuseRelu = on;
}

/** What {@link batchNormTrain} returns. */
export interface BatchNormResult<T extends Tensor> {
  /** The normalised, scaled and shifted input (through the relu with `relu`); shape of `x`. */
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
 * @param opts `relu`: `y` through a relu (`tf.relu`, and its gradient), which the WASM kernels
 * fuse into the normalisation and the gradient's passes with the same bits
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
  opts: { relu?: boolean } = {},
): BatchNormResult<T> {
  const relu = opts.relu ?? false;
  if (wasmBatchNormAvailable(x)) {
    if (_fuseRelu) return _batchNormTrainWasm(x, gamma, beta, epsilon, relu);
    const r = _batchNormTrainWasm(x, gamma, beta, epsilon, false);
    return relu ? { ...r, y: tf.relu(r.y) } : r;
  }
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
  return { y: relu ? tf.relu(y) : y, mean, variance };
}

/** {@link batchNormTrain} on byel's WASM kernels (`kernels/wasm_batch_norm.ts`): same maths. */
function _batchNormTrainWasm<T extends Tensor>(
  x: T,
  gamma: Tensor1D,
  beta: Tensor1D,
  epsilon: number,
  relu: boolean,
): BatchNormResult<T> {
  const run = (name: string, inputs: NamedTensorMap, attrs = {}) =>
    tf.engine().runKernel(name, inputs, attrs) as unknown as Tensor[];
  const [mean, variance] = run("ByelBnStats", { x }) as Tensor1D[];
  const f = tf.customGrad((xIn, g, b, save) => {
    const [y, invStd] = run(
      "ByelBnNorm",
      { x: xIn as Tensor, mean, variance, gamma: g as Tensor, beta: b as Tensor },
      { epsilon, relu },
    );
    // x, not x̂, is saved: the gradient kernel recomputes x̂ from it. With the relu fused, its
    // output is saved for the relu's step in the gradient.
    const kept = [xIn as Tensor, mean, g as Tensor, invStd];
    (save as tf.GradSaveFunc)(relu ? [...kept, y] : kept);
    return {
      value: y,
      gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
        const [xs, mu, gm, is, out] = saved;
        const inputs: NamedTensorMap = { dy: dy as Tensor, x: xs, mean: mu, gamma: gm, invStd: is };
        if (out) inputs.out = out;
        return run("ByelBnGrad", inputs);
      },
    };
  });
  const y = f(x, gamma, beta) as T;
  return { y, mean, variance };
}
