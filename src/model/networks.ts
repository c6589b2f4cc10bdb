/**
 * The networks of each stage, as parameter records with fixed names:
 *
 * - pretraining: `online.encoder`, `online.projector`, `online.predictor`, `online.emotion`
 *   (BYEL only) and `target.encoder`, `target.projector` (EMA copies, never given gradients);
 * - classification (fine-tuning, baseline, saved models): `encoder` + `head`.
 *
 * @module
 */
import { tf } from "../deps.ts";
import type { ArchConfig, Config } from "../config.ts";
import { Rng, STREAM } from "../rng.ts";
import { emotionClassifierInit, headForward, headInit, mlpForward, mlpInit } from "./heads.ts";
import type { ForwardContext } from "./layers.ts";
import { Params } from "./params.ts";
import { encoderForward, encoderInit } from "./encoder.ts";
import type { Tensor2D, Tensor4D } from "../tensors.ts";

/** The name of each network inside a parameter record (the prefix of its parameters). */
export const NET = {
  /** Pretraining: every online network (the one trained by gradients). */
  online: "online",
  /** Pretraining: every target network (moved only by the moving average). */
  target: "target",
  /** Pretraining: the online encoder f. */
  onlineEncoder: "online.encoder",
  /** Pretraining: the online projector g. */
  onlineProjector: "online.projector",
  /** Pretraining: the online predictor q. */
  onlinePredictor: "online.predictor",
  /** Pretraining (BYEL): the emotion classifier W + BatchNorm. */
  emotion: "online.emotion",
  /** Pretraining: the target encoder (EMA of the online one). */
  targetEncoder: "target.encoder",
  /** Pretraining: the target projector (EMA of the online one). */
  targetProjector: "target.projector",
  /** Classification: the encoder. */
  encoder: "encoder",
  /** Classification: Dropout + Linear -> 6. */
  head: "head",
} as const;

/**
 * Creates the pretraining networks; the target starts as an exact copy of the online encoder
 * and projector.
 *
 * @param cfg run config (arch, pretrain.hidden, pretrain.projectionDim, seed)
 * @param opts `emotion`: add BYEL's emotion classifier
 * @returns a new record (caller disposes)
 */
export function initPretrainNets(cfg: Config, opts: { emotion: boolean }): Params {
  const p = new Params();
  const rng = new Rng(cfg.seed, STREAM.init);
  const f = encoderInit(p, NET.onlineEncoder, { arch: cfg.arch, rng });
  const { hidden, projectionDim: d } = cfg.pretrain;
  mlpInit(p, NET.onlineProjector, { din: f, hidden, dout: d, rng });
  mlpInit(p, NET.onlinePredictor, { din: d, hidden, dout: d, rng });
  if (opts.emotion) emotionClassifierInit(p, NET.emotion, { dim: d, rng });
  for (
    const name of p.names(`${NET.onlineEncoder}.`).concat(p.names(`${NET.onlineProjector}.`))
  ) {
    p.add(NET.target + name.slice(NET.online.length), tf.clone(p.get(name)));
  }
  return p;
}

/** Outputs of the online network for one view. */
export interface OnlineOutputs {
  /** `[B, F]` representation. */
  y: Tensor2D;
  /** `[B, D]` projection. */
  z: Tensor2D;
  /** `[B, D]` prediction p = q(g(f(x))). */
  p: Tensor2D;
}

/**
 * The online network on one view: encoder f, projector g, predictor q.
 *
 * @param x `[B, S, S, 3]` normalised
 * @returns the representation, projection and prediction
 */
export function onlineForward(
  p: Params,
  x: Tensor4D,
  opts: { arch: ArchConfig; ctx: ForwardContext },
): OnlineOutputs {
  const y = encoderForward(p, NET.onlineEncoder, x, opts); // [B, F]
  const z = mlpForward(p, NET.onlineProjector, y, opts.ctx); // [B, D]
  return { y, z, p: mlpForward(p, NET.onlinePredictor, z, opts.ctx) }; // p: [B, D]
}

/**
 * The target network on one view: the moving-average encoder and projector.
 *
 * @param x `[B, S, S, 3]` normalised
 * @returns `[B, D]` the target projection g'(f'(x))
 */
export function targetForward(
  p: Params,
  x: Tensor4D,
  opts: { arch: ArchConfig; ctx: ForwardContext },
): Tensor2D {
  const y = encoderForward(p, NET.targetEncoder, x, opts); // [B, F]
  return mlpForward(p, NET.targetProjector, y, opts.ctx); // [B, D]
}

/**
 * Creates a classifier: a fresh encoder (or a copy of `from`'s `online.encoder`) and a head.
 *
 * @param cfg run config
 * @param from pretrained networks to copy the encoder from
 * @returns a new record with `encoder.*` and `head.*`
 */
export function initClassifier(cfg: Config, from?: Params): Params {
  const p = new Params();
  const rng = new Rng(cfg.seed, STREAM.finetuneInit);
  let f: number;
  if (from) {
    for (const name of from.names(`${NET.onlineEncoder}.`)) {
      p.add(NET.encoder + name.slice(NET.onlineEncoder.length), tf.clone(from.get(name)));
    }
    f = p.get(p.names(`${NET.encoder}.`).filter((n) => n.endsWith(".mean")).pop()!).size;
  } else {
    f = encoderInit(p, NET.encoder, { arch: cfg.arch, rng });
  }
  headInit(p, NET.head, { din: f, rng });
  return p;
}

/**
 * The classifier: encoder, then Dropout + Linear to the six classes.
 *
 * @param x `[B, S, S, 3]` normalised
 * @param opts dropout applies only when `dropoutRng` is given (training)
 * @returns `[B, 6]` logits
 */
export function classifierForward(
  p: Params,
  x: Tensor4D,
  opts: { arch: ArchConfig; ctx: ForwardContext; dropout?: number; dropoutRng?: Rng },
): Tensor2D {
  const y = encoderForward(p, NET.encoder, x, opts); // [B, F]
  return headForward(p, NET.head, y, { rate: opts.dropout ?? 0, rng: opts.dropoutRng }); // [B, 6]
}
