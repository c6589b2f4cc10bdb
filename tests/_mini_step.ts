/**
 * A miniature BYEL-style training step, for the kernel-coverage and cross-backend tests: a
 * residual conv stage with BatchNorm, max-pool, a strided 1×1 shortcut, global average pool,
 * a classifier (softmax cross-entropy), a projector with BatchNorm, the cosine loss against a
 * target branch, an SGD update and the target EMA. Every op a ResNet training step uses.
 *
 * @module
 */
import { tf } from "../src/deps.ts";
import { batchNormTrain } from "../src/backend/batch_norm.ts";
import { fill } from "./_grad_cases.ts";

/** Parameter shapes, in the order `params` holds them. */
export const PARAM_SHAPES: Record<string, number[]> = {
  conv1: [3, 3, 3, 8],
  g1: [8],
  b1: [8],
  conv2: [3, 3, 8, 8],
  g2: [8],
  b2: [8],
  short: [1, 1, 8, 8],
  fc: [8, 6],
  fcb: [6],
  proj: [8, 16],
  gp: [16],
  bp: [16],
  pred: [16, 16],
};
const NAMES = Object.keys(PARAM_SHAPES);

/** Deterministic starting values (small weights, unit BN scales). */
export function initialValues(): Float32Array[] {
  return NAMES.map((n, i) =>
    n.startsWith("g")
      ? new Float32Array(PARAM_SHAPES[n][0]).fill(1)
      : fill(PARAM_SHAPES[n], 10 + i).map((v) => 0.3 * v)
  );
}

/** The input batch: 4 images of 12×12×3 and their labels. */
export function batch(): { x: tf.Tensor4D; y: tf.Tensor2D } {
  return {
    x: tf.tensor4d(fill([4, 12, 12, 3], 7), [4, 12, 12, 3]),
    y: tf.oneHot(tf.tensor1d([0, 2, 5, 3], "int32"), 6) as tf.Tensor2D,
  };
}

function l2n(x: tf.Tensor): tf.Tensor {
  return tf.div(x, tf.sqrt(tf.add(tf.sum(tf.square(x), -1, true), 1e-12)));
}

function forward(p: Record<string, tf.Tensor>, x: tf.Tensor4D) {
  const bn = (t: tf.Tensor, g: string, b: string) =>
    batchNormTrain(t, p[g] as tf.Tensor1D, p[b] as tf.Tensor1D).y;
  let h = tf.relu(bn(tf.conv2d(x, p.conv1 as tf.Tensor4D, 1, "same"), "g1", "b1"));
  h = tf.maxPool(h as tf.Tensor4D, 3, 2, "same"); // [4, 6, 6, 8]
  const main = bn(tf.conv2d(h as tf.Tensor4D, p.conv2 as tf.Tensor4D, 2, "same"), "g2", "b2");
  const short = tf.conv2d(h as tf.Tensor4D, p.short as tf.Tensor4D, 2, "valid");
  const feat = tf.mean(tf.relu(tf.add(main, short)), [1, 2]); // [4, 8]
  const logits = tf.add(tf.matMul(feat, p.fc), p.fcb);
  const z = tf.matMul(tf.relu(bn(tf.matMul(feat, p.proj), "gp", "bp")), p.pred);
  return { logits, z };
}

/**
 * One step: loss = cross-entropy + cosine(online(x), target(flip x)); SGD with lr 0.1; target
 * EMA with τ = 0.9.
 *
 * @returns the loss and the updated online and target parameters (caller disposes)
 */
export function step(
  online: tf.Tensor[],
  target: tf.Tensor[],
): { loss: tf.Scalar; online: tf.Tensor[]; target: tf.Tensor[] } {
  return tf.tidy(() => {
    const { x, y } = batch();
    const named = (ts: tf.Tensor[]) => Object.fromEntries(NAMES.map((n, i) => [n, ts[i]]));
    // The target branch gets no gradient: it is computed outside the differentiated function.
    const zt = l2n(forward(named(target), tf.reverse(x, 2)).z);
    const lossFn = (...ps: tf.Tensor[]) => {
      const { logits, z } = forward(named(ps), x);
      const ce = tf.losses.softmaxCrossEntropy(y, logits);
      const cos = tf.mean(tf.sub(2, tf.mul(2, tf.sum(tf.mul(l2n(z), zt), -1))));
      return tf.add(ce, cos) as tf.Scalar;
    };
    const { value, grads } = tf.valueAndGrads(lossFn)(online);
    const next = online.map((w, i) => tf.sub(w, tf.mul(grads[i], 0.1)));
    const ema = target.map((t, i) => tf.add(tf.mul(t, 0.9), tf.mul(next[i], 0.1)));
    return { loss: value, online: next, target: ema };
  });
}
