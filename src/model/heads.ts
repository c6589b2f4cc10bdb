/**
 * The heads on top of the encoder: the projector and predictor MLPs (Linear-BN-ReLU-Linear), the
 * emotion classifier (W [D, 6], orthogonal, no bias, then BatchNorm over the 6 logits) and the
 * fine-tuning head (Dropout + Linear -> 6).
 *
 * @module
 */
import { tf } from "../deps.ts";
import { NUM_CLASSES } from "../emotions.ts";
import type { Rng } from "../rng.ts";
import { batchNorm, bnInit, dropout, type ForwardContext, linear, linearInit } from "./layers.ts";
import type { Params } from "./params.ts";
import type { Tensor2D } from "../tensors.ts";

/** Adds an MLP `din -> hidden -> dout` (Linear, BN, ReLU, Linear) under `prefix`. */
export function mlpInit(
  p: Params,
  prefix: string,
  opts: { din: number; hidden: number; dout: number; rng: Rng },
): void {
  linearInit(p, `${prefix}.fc1`, { fin: opts.din, fout: opts.hidden, bias: true, rng: opts.rng });
  bnInit(p, `${prefix}.bn`, opts.hidden);
  linearInit(p, `${prefix}.fc2`, { fin: opts.hidden, fout: opts.dout, bias: true, rng: opts.rng });
}

/** @returns `[B, dout]` @param x `[B, din]` */
export function mlpForward(
  p: Params,
  prefix: string,
  x: Tensor2D,
  ctx: ForwardContext,
): Tensor2D {
  const h = batchNorm(p, `${prefix}.bn`, linear(p, `${prefix}.fc1`, x), ctx, { relu: true }); // [B, hidden]
  return linear(p, `${prefix}.fc2`, h); // [B, dout]
}

/**
 * An `rows x cols` matrix with orthonormal columns (rows >= cols), like
 * `torch.nn.init.orthogonal_`: Gram-Schmidt on a Gaussian matrix.
 *
 * @param rows >= cols @param cols number of columns
 * @returns row-major values
 */
export function orthogonalMatrix(rows: number, cols: number, rng: Rng): Float32Array {
  if (rows < cols) throw new Error(`orthogonal init needs rows >= cols, got ${rows} x ${cols}`);
  const q: Float64Array[] = [];
  for (let j = 0; j < cols; j++) {
    const v = Float64Array.from({ length: rows }, () => rng.normal());
    for (let pass = 0; pass < 2; pass++) { // twice is enough for float64 orthogonality
      for (const u of q) {
        let d = 0;
        for (let i = 0; i < rows; i++) d += u[i] * v[i];
        for (let i = 0; i < rows; i++) v[i] -= d * u[i];
      }
    }
    const n = Math.hypot(...v);
    for (let i = 0; i < rows; i++) v[i] /= n;
    q.push(v);
  }
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[i * cols + j] = q[j][i];
  return out;
}

/** Adds the emotion classifier: `w [dim, 6]` orthogonal, no bias, and a BatchNorm over 6 logits. */
export function emotionClassifierInit(
  p: Params,
  prefix: string,
  opts: { dim: number; rng: Rng },
): void {
  p.add(
    `${prefix}.w`,
    tf.tensor2d(orthogonalMatrix(opts.dim, NUM_CLASSES, opts.rng), [opts.dim, NUM_CLASSES]),
  );
  bnInit(p, `${prefix}.bn`, NUM_CLASSES);
}

/** @returns `[B, 6]` logits BN(p W) @param x `[B, dim]` the online prediction */
export function emotionClassifier(
  p: Params,
  prefix: string,
  x: Tensor2D,
  ctx: ForwardContext,
): Tensor2D {
  return batchNorm(
    p,
    `${prefix}.bn`,
    tf.matMul(x, p.get(`${prefix}.w`) as tf.Variable<tf.Rank.R2>),
    ctx,
  );
}

/** Adds the fine-tuning head: Linear(F -> 6) with bias. */
export function headInit(p: Params, prefix: string, opts: { din: number; rng: Rng }): void {
  linearInit(p, `${prefix}.fc`, { fin: opts.din, fout: NUM_CLASSES, bias: true, rng: opts.rng });
}

/**
 * @param x `[B, F]` representation @param rate dropout rate (applied only when `rng` is given)
 * @returns `[B, 6]` logits
 */
export function headForward(
  p: Params,
  prefix: string,
  x: Tensor2D,
  opts: { rate: number; rng?: Rng },
): Tensor2D {
  const h = opts.rng ? dropout(x, opts.rate, opts.rng) : x;
  return linear(p, `${prefix}.fc`, h);
}
