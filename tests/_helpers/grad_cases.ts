/**
 * Gradient test cases shared by the WASM and WebGPU parity tests: each is a scalar loss of a
 * few small tensors, filled deterministically (no RNG) so every backend sees the same numbers.
 *
 * @module
 */
import { tf } from "../../src/deps.ts";
import { batchNormTrain } from "../../src/backend/batch_norm.ts";

/** A scalar loss and the tensors it is differentiated with respect to. */
export interface GradCase {
  name: string;
  shapes: number[][];
  loss: (...xs: tf.Tensor[]) => tf.Scalar;
  /** False when the loss has kinks (ReLU) that finite differences may straddle. */
  smooth?: boolean;
}

/** Deterministic values in [-1, 1] for a shape; `seed` varies the pattern. */
export function fill(shape: number[], seed: number): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  return Float32Array.from(
    { length: n },
    (_, i) => Math.sin(1.7 * i + 0.9 * seed + 0.3 * i * i % 7),
  );
}

/** A fixed weighting tensor for `sum(y · r)` losses, so that gradients are not all equal. */
function weigh(y: tf.Tensor): tf.Scalar {
  return tf.sum(tf.mul(y, tf.tensor(fill(y.shape, 99), y.shape)));
}

function conv(k: number, s: number, pad: "same" | "valid"): GradCase {
  return {
    name: `conv ${k}x${k} stride ${s} ${pad}`,
    shapes: [[2, 7, 7, 3], [k, k, 3, 4]],
    loss: (x, w) => weigh(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, s, pad)),
  };
}

/** Normalises the last axis. */
function l2n(x: tf.Tensor): tf.Tensor {
  return tf.div(x, tf.sqrt(tf.add(tf.sum(tf.square(x), -1, true), 1e-12)));
}

/** Every case of the parity tests. */
export const GRAD_CASES: GradCase[] = [
  conv(1, 1, "same"),
  conv(1, 2, "valid"),
  conv(3, 1, "same"),
  conv(3, 1, "valid"),
  conv(3, 2, "same"),
  conv(3, 2, "valid"),
  conv(7, 2, "same"), // the ImageNet stem's shape (on WASM: patches and gemm_atb)
  {
    name: "batchNormTrain (4D)",
    shapes: [[4, 3, 3, 5], [5], [5]],
    loss: (x, g, b) => weigh(batchNormTrain(x, g as tf.Tensor1D, b as tf.Tensor1D).y),
  },
  {
    name: "batchNormTrain (2D) then ReLU",
    shapes: [[6, 4], [4], [4]],
    loss: (x, g, b) => weigh(tf.relu(batchNormTrain(x, g as tf.Tensor1D, b as tf.Tensor1D).y)),
    smooth: false,
  },
  {
    name: "dense",
    shapes: [[5, 6], [6, 3], [3]],
    loss: (x, w, b) => weigh(tf.add(tf.matMul(x, w), b)),
  },
  {
    name: "softmax cross-entropy",
    shapes: [[5, 6]],
    loss: (logits) =>
      tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d([0, 3, 5, 1, 2], "int32"), 6), logits),
  },
  {
    name: "cosine (BYOL) loss",
    shapes: [[4, 8], [4, 8]],
    loss: (p, z) => tf.mean(tf.sub(2, tf.mul(2, tf.sum(tf.mul(l2n(p), l2n(z)), -1)))),
  },
];

/**
 * The gradients of a case on the active backend.
 *
 * @returns one flat array per input
 */
export async function gradsOnActive(c: GradCase): Promise<Float32Array[]> {
  const xs = c.shapes.map((s, i) => tf.tensor(fill(s, i + 1), s));
  const gs = tf.grads((...a: tf.Tensor[]) => c.loss(...a))(xs);
  const out = await Promise.all(gs.map((g) => g.data() as Promise<Float32Array>));
  tf.dispose([...xs, ...gs]);
  return out;
}

/** The loss of a case on the active backend, at the given input values. */
export async function lossAt(c: GradCase, values: Float32Array[]): Promise<number> {
  const xs = c.shapes.map((s, i) => tf.tensor(values[i], s));
  const l = c.loss(...xs);
  const v = (await l.data())[0];
  tf.dispose([...xs, l]);
  return v;
}

/** Largest |a − b| / (1 + |b|) over all elements. */
export function maxRelErr(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i])));
  return Number.isNaN(m) ? Infinity : m;
}
