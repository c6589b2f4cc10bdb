/**
 * The method: BYEL's losses, emotion vector subtraction and the target's moving average, as
 * pure tensor functions (all inside tf.tidy), plus the pretraining loss that wires them to the
 * networks. Plain BYOL is the same without the classifier and EVS.
 *
 * @module
 */
import { tf } from "../deps.ts";
import type { ArchConfig } from "../config.ts";
import { emotionClassifier } from "../model/heads.ts";
import type { ForwardContext } from "../model/layers.ts";
import { NET, onlineForward, targetForward } from "../model/networks.ts";
import type { Params } from "../model/params.ts";
import { moveToward } from "./average.ts";
import type { Scalar, Tensor1D, Tensor2D, Tensor4D } from "../tensors.ts";

/** @returns rows scaled to unit L2 norm @param x `[B, D]` */
export function l2Normalize(x: Tensor2D): Tensor2D {
  return tf.tidy(() => tf.div(x, tf.maximum(tf.norm(x, 2, 1, true), 1e-12)));
}

/**
 * BYOL's regression loss for one direction: mean over the batch of 2 - 2 cos(p, z).
 *
 * @param p `[B, D]` online prediction @param z `[B, D]` target projection
 * @returns scalar in [0, 4]
 */
export function regressionLoss(p: Tensor2D, z: Tensor2D): Scalar {
  return tf.tidy(() => {
    const cos = tf.sum(tf.mul(l2Normalize(p), l2Normalize(z)), 1); // [B]
    return tf.mean(tf.sub(2, tf.mul(2, cos)));
  });
}

/**
 * The symmetric BYOL loss: (2 - 2cos(p1, z2)) + (2 - 2cos(p2, z1)), each averaged over the batch.
 *
 * @param p1 `[B, D]` online prediction of view 1 (after EVS in BYEL)
 * @param p2 `[B, D]` online prediction of view 2
 * @param z1 `[B, D]` target projection of view 1 (treated as a constant)
 * @param z2 `[B, D]` target projection of view 2
 * @returns scalar in [0, 8]
 */
export function byolLoss(
  p1: Tensor2D,
  p2: Tensor2D,
  targets: { z1: Tensor2D; z2: Tensor2D },
): Scalar {
  return tf.tidy(() => tf.add(regressionLoss(p1, targets.z2), regressionLoss(p2, targets.z1)));
}

/**
 * The emotion vector of class c: column c of W, `[D]`. For a batch, `[B, D]`.
 *
 * @param w `[D, 6]` emotion classifier weights @param labels `[B]` int32 class indices
 * @returns `[B, D]` W[:, c_b] per row
 */
export function emotionVector(w: Tensor2D, labels: Tensor1D): Tensor2D {
  // onehot(c) W^T rather than a gather: same values, and its gradient is a matMul, which every
  // backend has (gather's gradient needs UnsortedSegmentSum, missing from WASM).
  return tf.tidy(() => tf.matMul(tf.oneHot(labels, w.shape[1]), w, false, true)); // [B, D]
}

/**
 * Emotion vector subtraction (EVS): p' = p - ||p||_2 * W[:, c].
 *
 * @param p `[B, D]` unnormalised online prediction
 * @param w `[D, 6]` @param labels `[B]` int32
 * @returns `[B, D]` p'
 */
export function subtractEmotion(p: Tensor2D, w: Tensor2D, labels: Tensor1D): Tensor2D {
  return tf.tidy(() => tf.sub(p, tf.mul(tf.norm(p, 2, 1, true), emotionVector(w, labels))));
}

/**
 * Mean softmax cross-entropy, optionally class-weighted: `-(1/B) sum_i w[y_i] log p_i[y_i]`.
 * The weighted form divides by the batch size, not by the sum of the weights, so micro-batch
 * means still add up to the full batch's mean; with `classWeights` from `data/sampler.ts`
 * (mean weight 1 over the training set) it stays on the unweighted loss's scale.
 *
 * @param logits `[B, K]` @param labels `[B]` int32 in [0, K)
 * @param weights optional `[K]` per-class weights (`--balance loss`)
 * @returns scalar
 */
export function crossEntropy(
  logits: Tensor2D,
  labels: Tensor1D,
  weights?: Tensor1D,
): Scalar {
  return tf.tidy(() => {
    const logp = tf.logSoftmax(logits); // [B, K]
    const onehot = tf.oneHot(labels, logits.shape[1]); // [B, K]
    const picked = weights ? tf.mul(onehot, weights) : onehot; // [B, K]
    return tf.neg(tf.mean(tf.sum(tf.mul(picked, logp), 1)));
  });
}

/**
 * The orthogonality penalty sum |I - W^T W| (L1), keeping the emotion vectors orthonormal.
 *
 * @param w `[D, 6]`
 * @returns scalar >= 0 (0 for orthonormal columns)
 */
export function orthLoss(w: Tensor2D): Scalar {
  return tf.tidy(() => tf.sum(tf.abs(tf.sub(tf.eye(w.shape[1]), tf.matMul(w, w, true, false)))));
}

/**
 * The target decay at a step: constant, or rising from `base` to 1 on a cosine
 * (tau = 1 - (1 - base)(cos(pi k / K) + 1) / 2, as BYOL).
 *
 * @param step 0-based step @param total steps in the run
 * @returns decay in [base, 1]
 */
export function emaDecayAt(
  step: number,
  total: number,
  opts: { base: number; schedule: "constant" | "cosine" },
): number {
  if (opts.schedule === "constant" || total <= 0) return opts.base;
  return 1 - (1 - opts.base) * (Math.cos(Math.PI * Math.min(step, total) / total) + 1) / 2;
}

/**
 * Moves the target toward the online network: target = decay * target + (1 - decay) * online,
 * for every learned parameter of `target.encoder` and `target.projector` (the target's BatchNorm
 * running statistics are not used: the target always runs in training mode).
 *
 * @param p record holding both networks @param decay in [0, 1]
 */
export function updateTarget(p: Params, decay: number): void {
  for (const name of p.trainable(`${NET.target}.`)) {
    moveToward(p.get(name), p.get(NET.online + name.slice(NET.target.length)), decay);
  }
}

/**
 * A loss as data: the scalar to differentiate and the named terms it is made of (for logging).
 * Whoever runs a step sums, logs and frees whatever terms arrive, so a new term is one entry
 * here plus its weight in the config.
 */
export interface LossTerms {
  /** The weighted sum of the terms: what the gradient is taken of. */
  total: Scalar;
  /** Each term, unweighted, by name (`byol`, `cls`, `orth`). */
  terms: Record<string, Scalar>;
}

/** Weights of the pretraining loss terms (the recipe: all 1). */
export interface PretrainLossWeights {
  /** The BYOL regression term. */
  byol: number;
  /** The emotion classifier's cross-entropy (BYEL only). */
  cls: number;
  /** The orthogonality penalty on the emotion vectors (BYEL only). */
  orth: number;
}

/**
 * The weighted sum of loss terms (a weight of 1 multiplies nothing).
 *
 * @param terms name -> scalar @param weights name -> weight (every term has one)
 * @returns scalar
 */
export function weightedTotal<K extends string>(
  terms: Record<K, Scalar>,
  weights: Readonly<Record<NoInfer<K>, number>>,
): Scalar {
  return tf.tidy(() => {
    const parts = (Object.keys(terms) as K[]).map((k) => {
      const w = weights[k];
      return w === 1 ? terms[k] : tf.mul(terms[k], w);
    });
    return (parts.length === 1 ? parts[0] : tf.addN(parts)) as Scalar;
  });
}

/**
 * Target projections of both views. Called OUTSIDE the gradient function: the target is a
 * constant for the loss (BYOL's stop-gradient), and its weights change only by {@link updateTarget}.
 *
 * @param v1 `[B, S, S, 3]` view 1 @param v2 `[B, S, S, 3]` view 2
 * @returns `{ z1, z2 }` `[B, D]` each
 */
export function targetProjections(
  p: Params,
  views: { v1: Tensor4D; v2: Tensor4D },
  arch: ArchConfig,
): { z1: Tensor2D; z2: Tensor2D } {
  return tf.tidy(() => {
    // Training mode (batch statistics) as in BYOL; no running statistics are updated.
    const ctx: ForwardContext = { train: true };
    const z1 = targetForward(p, views.v1, { arch, ctx });
    const z2 = targetForward(p, views.v2, { arch, ctx });
    return { z1, z2 };
  });
}

/**
 * The pretraining loss of one (micro-)batch for BYEL (`emotion: true`) or plain BYOL
 * (`emotion: false`: no classifier, no EVS), given the target projections.
 *
 * @param nets the pretraining networks @param views two augmented views `[B, S, S, 3]`
 * @param opts `targets`: target projections (constants); `labels`: `[B]` int32 (BYEL only);
 *   `classWeights`: optional `[6]` weights of BYEL's cross-entropy term (`--balance loss`)
 * @returns the total and its terms (scalars; caller disposes)
 */
export function pretrainLoss(
  nets: Params,
  views: { v1: Tensor4D; v2: Tensor4D },
  opts: {
    arch: ArchConfig;
    emotion: boolean;
    weights: PretrainLossWeights;
    targets: { z1: Tensor2D; z2: Tensor2D };
    labels: Tensor1D;
    ctx: ForwardContext;
    classWeights?: Tensor1D;
  },
): LossTerms {
  return tf.tidy(() => {
    const { arch, ctx, labels } = opts;
    const o1 = onlineForward(nets, views.v1, { arch, ctx }); // p: [B, D]
    const o2 = onlineForward(nets, views.v2, { arch, ctx });
    if (!opts.emotion) {
      const terms = { byol: byolLoss(o1.p, o2.p, opts.targets) };
      return { total: weightedTotal(terms, opts.weights), terms };
    }
    const w = nets.get(`${NET.emotion}.w`) as tf.Variable<tf.Rank.R2>; // [D, 6]
    // The classifier reads p before EVS; the BYOL term compares p' = p - ||p|| e_c with the target.
    const cls = tf.add(
      crossEntropy(emotionClassifier(nets, NET.emotion, o1.p, ctx), labels, opts.classWeights),
      crossEntropy(emotionClassifier(nets, NET.emotion, o2.p, ctx), labels, opts.classWeights),
    ) as Scalar;
    const byol = byolLoss(
      subtractEmotion(o1.p, w, labels),
      subtractEmotion(o2.p, w, labels),
      opts.targets,
    );
    const terms = { byol, cls, orth: orthLoss(w) };
    return { total: weightedTotal(terms, opts.weights), terms };
  });
}
