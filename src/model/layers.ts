/**
 * Layer primitives over a {@link Params} record: convolution, BatchNorm (batch statistics in
 * training with running averages, running statistics in evaluation), linear, dropout. Images
 * are NHWC.
 *
 * @module
 */
import { tf } from "../deps.ts";
import { batchNormTrain } from "../backend/batch_norm.ts";
import { convBiasMaxPool2x2 } from "../backend/conv_pool.ts";
import { maxPool2x2 } from "../backend/max_pool.ts";
import type { Rng } from "../rng.ts";
import type { Params } from "./params.ts";
import type { Tensor, Tensor1D, Tensor2D, Tensor4D } from "../tensors.ts";

/** How a forward pass runs. */
export interface ForwardContext {
  /** Training mode: BatchNorm uses batch statistics. */
  train: boolean;
  /**
   * When set (training only), BatchNorm layers push their batch statistics here (kept tensors)
   * for `applyBnUpdates` (`src/train/average.ts`) to fold into the running averages after the
   * step.
   */
  bnUpdates?: BnUpdate[];
}

/** One BatchNorm layer's batch statistics from a training forward pass. */
export interface BnUpdate {
  /** Layer name (its `.mean` / `.var` variables). */
  name: string;
  /** `[C]` batch mean. */
  mean: Tensor1D;
  /** `[C]` unbiased batch variance. */
  variance: Tensor1D;
}

/** PyTorch's BatchNorm defaults. */
export const BN_MOMENTUM = 0.1;
/** @default 1e-5 */
export const BN_EPS = 1e-5;

function _normal(rng: Rng, n: number, std: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * std;
  return a;
}

/**
 * Adds a `k x k` convolution weight `[k, k, cin, cout]`, He-normal (fan-out), as torchvision.
 *
 * @param p record @param name layer name
 */
export function convInit(
  p: Params,
  name: string,
  opts: { k: number; cin: number; cout: number; rng: Rng },
): void {
  const { k, cin, cout, rng } = opts;
  const std = Math.sqrt(2 / (k * k * cout));
  p.add(`${name}.w`, tf.tensor4d(_normal(rng, k * k * cin * cout, std), [k, k, cin, cout]));
}

/**
 * Convolution with PyTorch's symmetric padding (k/2), so stride-2 layers match torchvision.
 *
 * @param p record @param name layer name
 * @returns `[B, H', W', cout]`
 */
export function conv(
  p: Params,
  name: string,
  x: Tensor4D,
  opts: { stride: number },
): Tensor4D {
  const w = p.get(`${name}.w`) as tf.Variable<tf.Rank.R4>;
  const k = w.shape[0];
  return tf.conv2d(x, w, opts.stride, Math.floor(k / 2));
}

/**
 * Convolution then BatchNorm (then relu, then optionally the 2x2 max pool). In training it is
 * {@link conv}, {@link batchNorm} and `maxPool2x2`; in evaluation the BatchNorm is folded into
 * the convolution (`w·γ/√(σ²+ε)`, bias `β − μ·γ/√(σ²+ε)`, computed once per weight version and
 * cached on the record) and run as one fused convolution with bias and relu: the same function
 * with two elementwise passes fewer; with `pool` (stride 1, 3x3), the pool too
 * (`convBiasMaxPool2x2`: on WASM one kernel, the same bits).
 *
 * @param p record @param names the conv layer and its BatchNorm
 * @param x `[B, H, W, cin]`
 * @returns `[B, H', W', cout]`, pooled `[B, H' / 2, W' / 2, cout]`
 */
export function convBn(
  p: Params,
  names: { conv: string; bn: string },
  x: Tensor4D,
  opts: { stride: number; relu: boolean; ctx: ForwardContext; pool?: boolean },
): Tensor4D {
  if (opts.ctx.train) {
    const y = batchNorm(p, names.bn, conv(p, names.conv, x, opts), opts.ctx, {
      relu: opts.relu,
    });
    return opts.pool ? maxPool2x2(y) : y;
  }
  const { conv: c, bn } = names;
  const [w, bias] = p.derived(
    `fold:${c}`,
    [`${c}.w`, `${bn}.gamma`, `${bn}.beta`, `${bn}.mean`, `${bn}.var`],
    () => {
      const scale = tf.mul(p.get(`${bn}.gamma`), tf.rsqrt(tf.add(p.get(`${bn}.var`), BN_EPS)));
      return [
        tf.mul(p.get(`${c}.w`), scale), // [k, k, cin, cout] scaled per output channel
        tf.sub(p.get(`${bn}.beta`), tf.mul(p.get(`${bn}.mean`), scale)), // [cout]
      ];
    },
  ) as [Tensor4D, Tensor1D];
  if (opts.pool && opts.stride === 1 && w.shape[0] === 3) {
    return convBiasMaxPool2x2(x, w, bias, opts.relu);
  }
  const y = tf.fused.conv2d({
    x,
    filter: w,
    strides: opts.stride,
    pad: Math.floor(w.shape[0] / 2),
    bias,
    activation: opts.relu ? "relu" : "linear",
  });
  return opts.pool ? maxPool2x2(y) : y;
}

/** Adds BatchNorm parameters (gamma 1, beta 0) and running statistics (mean 0, var 1). */
export function bnInit(p: Params, name: string, channels: number): void {
  p.add(`${name}.gamma`, tf.ones([channels]));
  p.add(`${name}.beta`, tf.zeros([channels]));
  p.add(`${name}.mean`, tf.zeros([channels]));
  p.add(`${name}.var`, tf.ones([channels]));
}

/**
 * BatchNorm over every axis but the last (NHWC images or `[B, C]` vectors), then a relu if
 * asked (in training on WASM, fused into the BatchNorm's kernels: see `batchNormTrain`).
 *
 * @param p record @param name layer name @param x `[..., C]`
 * @returns normalised `x`, same shape
 */
export function batchNorm<T extends Tensor>(
  p: Params,
  name: string,
  x: T,
  ctx: ForwardContext,
  opts: { relu?: boolean } = {},
): T {
  const gamma = p.get(`${name}.gamma`);
  const beta = p.get(`${name}.beta`);
  if (!ctx.train) {
    const y = tf.batchNorm(x, p.get(`${name}.mean`), p.get(`${name}.var`), beta, gamma, BN_EPS);
    return (opts.relu ? tf.relu(y) : y) as T;
  }
  // The engine's closed-form BatchNorm gradient (src/backend/batch_norm.ts) is much lighter
  // than differentiating tf.moments.
  const { y, mean, variance } = batchNormTrain(
    x,
    gamma as Tensor1D,
    beta as Tensor1D,
    BN_EPS,
    { relu: opts.relu },
  );
  if (ctx.bnUpdates) {
    const n = x.size / x.shape[x.shape.length - 1];
    ctx.bnUpdates.push({
      name,
      mean: tf.keep(mean),
      variance: tf.keep(tf.mul(variance, n / Math.max(1, n - 1))) as Tensor1D,
    });
  }
  return y;
}

/** Adds instance-norm affine parameters (gamma 1, beta 0); there are no running statistics. */
export function instanceNormInit(p: Params, name: string, channels: number): void {
  p.add(`${name}.gamma`, tf.ones([channels]));
  p.add(`${name}.beta`, tf.zeros([channels]));
}

/**
 * Instance normalisation: each image's channels standardised over their own pixels, then
 * scaled and shifted. The same in training and evaluation (no dataset statistics), so a photo
 * whose contrast or colour statistics differ from the training faces' is normalised by its own.
 *
 * @param p record @param name layer name @param x `[B, H, W, C]`
 * @returns `[B, H, W, C]`
 */
export function instanceNorm(p: Params, name: string, x: Tensor4D): Tensor4D {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, [1, 2], true); // [B, 1, 1, C]
    const y = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, BN_EPS)));
    return tf.add(tf.mul(y, p.get(`${name}.gamma`)), p.get(`${name}.beta`)) as Tensor4D;
  });
}

/**
 * Adds a linear layer `w [fin, fout]` (+ `b [fout]`), PyTorch's default uniform(±1/sqrt(fin)).
 *
 * @param p record @param name layer name
 */
export function linearInit(
  p: Params,
  name: string,
  opts: { fin: number; fout: number; bias: boolean; rng: Rng },
): void {
  const { fin, fout, rng } = opts;
  const bound = 1 / Math.sqrt(fin);
  const w = new Float32Array(fin * fout).map(() => rng.uniform(-bound, bound));
  p.add(`${name}.w`, tf.tensor2d(w, [fin, fout]));
  if (opts.bias) {
    p.add(`${name}.b`, tf.tensor1d(new Float32Array(fout).map(() => rng.uniform(-bound, bound))));
  }
}

/** @returns `x w (+ b)`, `[B, fout]` @param x `[B, fin]` */
export function linear(p: Params, name: string, x: Tensor2D): Tensor2D {
  const y = tf.matMul(x, p.get(`${name}.w`) as tf.Variable<tf.Rank.R2>) as Tensor2D;
  const b = p.vars.get(`${name}.b`);
  return b ? tf.add(y, b) as Tensor2D : y;
}

/**
 * Inverted dropout with a mask drawn from `rng` (so it is reproducible and resumable).
 *
 * @param x `[B, F]` @param rate drop probability
 * @returns `x` with entries zeroed and the rest scaled by 1/(1-rate)
 */
export function dropout(x: Tensor2D, rate: number, rng: Rng): Tensor2D {
  if (rate <= 0) return x;
  const keep = 1 - rate;
  const mask = new Float32Array(x.size).map(() => (rng.uniform() < keep ? 1 / keep : 0));
  return tf.mul(x, tf.tensor2d(mask, x.shape));
}
