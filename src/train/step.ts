/**
 * One optimisation step of each stage, over one shared skeleton: split the step's images into
 * micro-batches, take each one's loss and gradients, sum the gradients, check the loss is
 * finite, apply the optimizer. What differs between the stages is only the loss of a
 * micro-batch (two views and the target for pretraining, one view and the classifier for the
 * supervised stage); its terms arrive as data ({@link LossTerms}) and are summed, logged and
 * freed here whatever they are.
 *
 * Tensor values are read once per step, asynchronously (WebGPU under Deno cannot read
 * synchronously).
 *
 * @module
 */
import { tf } from "../deps.ts";
import type { AugmentConfig, Config } from "../config.ts";
import type { Batch, Dataset } from "../data/dataset.ts";
import { augmentBatch, drawAugmentParams } from "../data/augment.ts";
import { UserError } from "../errors.ts";
import type { ForwardContext } from "../model/layers.ts";
import { classifierForward, NET } from "../model/networks.ts";
import type { Params } from "../model/params.ts";
import { Rng, STREAM } from "../rng.ts";
import { applyBnUpdates } from "./average.ts";
import {
  crossEntropy,
  emaDecayAt,
  type LossTerms,
  pretrainLoss,
  targetProjections,
  updateTarget,
} from "./byel.ts";
import { STAGE_ID } from "./methods.ts";
import type { Optimizer } from "./optimizers.ts";
import type { NamedTensorMap, Scalar, Tensor, Tensor1D, Tensor4D } from "../tensors.ts";

/** Thrown when a loss is NaN or infinite; the last good checkpoint is kept. */
export class NonFiniteLossError extends UserError {}

/** Inputs of one step. */
export interface StepInputs {
  /** The run's config. */
  cfg: Config;
  /** The training images. */
  data: Dataset;
  /** The step's image indices (the batch). */
  indices: number[];
  /** The images of `indices`, already read (the loop prefetches them); else read from `data`. */
  batch?: Batch;
  /** Images per forward/backward pass. */
  micro: number;
  /** 0-based step of the stage (keys every random draw of the step). */
  step: number;
  /** Learning rate of this step. */
  lr: number;
  /** `[6]` class weights of the cross-entropy terms (`--balance loss`). */
  classWeights?: Tensor1D;
}

/**
 * One pretraining step (BYEL or BYOL): two views per image, target projections as constants,
 * gradients summed over micro-batches, one optimizer update, then the target EMA.
 *
 * @param nets the pretraining networks (`online.*`, `target.*`)
 * @param s the step; `emotion` selects BYEL's classifier and EVS, `total` is the stage's steps
 * @returns the mean loss terms of the step (`loss` is their weighted total)
 */
export async function pretrainStep(
  nets: Params,
  optimizer: Optimizer,
  s: StepInputs & { total: number; emotion: boolean },
): Promise<Record<string, number>> {
  const { cfg } = s;
  const terms = await _accumulateAndApply(nets, optimizer, s, {
    stage: "pretrain",
    prefix: `${NET.online}.`,
    microLoss: (b, c) => {
      const rng = new Rng(cfg.seed, STREAM.augment, STAGE_ID.pretrain, s.step, c);
      const { views: [v1, v2], labels } = _loadViews(b, {
        cfg,
        rng,
        views: 2,
        augment: cfg.pretrain.augment,
      });
      // Stop-gradient: the target runs outside tf.variableGrads, so its projections enter the
      // loss as constants; the target's weights change only through the EMA below.
      const targets = targetProjections(nets, { v1, v2 }, cfg.arch);
      return {
        inputs: [v1, v2, labels, targets.z1, targets.z2],
        loss: (ctx) =>
          pretrainLoss(nets, { v1, v2 }, {
            arch: cfg.arch,
            emotion: s.emotion,
            weights: cfg.pretrain.lossWeights,
            targets,
            labels,
            ctx,
            classWeights: s.classWeights,
          }),
      };
    },
  });
  updateTarget(
    nets,
    emaDecayAt(s.step, s.total, {
      base: cfg.pretrain.emaDecay,
      schedule: cfg.pretrain.emaSchedule,
    }),
  );
  return terms;
}

/**
 * One supervised step (fine-tuning or baseline): one view, dropout, cross-entropy.
 *
 * @param classifier `encoder.*` + `head.*`
 * @returns `{ loss }`
 */
export async function finetuneStep(
  classifier: Params,
  optimizer: Optimizer,
  s: StepInputs,
): Promise<Record<string, number>> {
  const { cfg } = s;
  return await _accumulateAndApply(classifier, optimizer, s, {
    stage: "finetune",
    prefix: "",
    microLoss: (b, c) => {
      const rng = new Rng(cfg.seed, STREAM.augment, STAGE_ID.finetune, s.step, c);
      const { views: [view], labels } = _loadViews(b, {
        cfg,
        rng,
        views: 1,
        augment: cfg.finetune.augment,
      });
      const dropoutRng = new Rng(cfg.seed, STREAM.dropout, s.step, c);
      return {
        inputs: [view, labels],
        loss: (ctx) => ({
          total: crossEntropy(
            classifierForward(classifier, view, {
              arch: cfg.arch,
              ctx,
              dropout: cfg.finetune.dropout,
              dropoutRng,
            }),
            labels,
            s.classWeights,
          ),
          terms: {},
        }),
      };
    },
  });
}

/** The loss of one micro-batch, in two parts. */
interface MicroBatchLoss {
  /** Tensors made for this micro-batch outside the gradient (views, labels, targets). */
  inputs: Tensor[];
  /** Runs inside `tf.variableGrads`: the micro-batch's loss and its terms. */
  loss: (ctx: ForwardContext) => LossTerms;
}

/**
 * The skeleton of every step: for each micro-batch, its loss and gradients (the loss divided
 * by the number of micro-batches, so the summed gradients equal the full batch's mean), the
 * BatchNorm running statistics folded in; then one read of every logged value, the finite
 * check, and one optimizer update of the parameters under `prefix`.
 *
 * @returns `loss` (the total) and each term, averaged over the micro-batches
 */
async function _accumulateAndApply(
  params: Params,
  optimizer: Optimizer,
  s: StepInputs,
  opts: {
    stage: "pretrain" | "finetune";
    prefix: string;
    microLoss: (b: Batch, c: number) => MicroBatchLoss;
  },
): Promise<Record<string, number>> {
  const names = params.trainable(opts.prefix);
  const vars = names.map((n) => params.get(n));
  const engineToName = new Map(names.map((n, i) => [vars[i].name, n]));
  const acc = new Map<string, Tensor>();
  const chunks = Math.ceil(s.indices.length / s.micro);
  const logged: { keys: string[]; values: Tensor1D }[] = [];
  try {
    for (let c = 0; c < chunks; c++) {
      const m = opts.microLoss(await _microBatch(s, c), c);
      const ctx: ForwardContext = { train: true, bnUpdates: [] };
      let terms: Record<string, Scalar> = {};
      const { value, grads } = tf.variableGrads(() => {
        const l = m.loss(ctx);
        terms = Object.fromEntries(Object.entries(l.terms).map(([k, t]) => [k, tf.keep(t)]));
        return tf.div(l.total, chunks) as Scalar;
      }, vars);
      _accumulate(acc, grads, engineToName);
      const keys = Object.keys(terms);
      logged.push({ keys, values: tf.stack([value, ...keys.map((k) => terms[k])]) as Tensor1D });
      tf.dispose([value, ...Object.values(terms), ...m.inputs]);
      applyBnUpdates(params, ctx.bnUpdates!);
    }
    // One read per step: [loss / chunks, term, term, …] per micro-batch.
    const all = tf.concat(logged.map((l) => l.values));
    const values = await all.data();
    all.dispose();
    const out: Record<string, number> = { loss: 0 };
    let at = 0;
    for (const { keys } of logged) {
      out.loss += values[at++];
      for (const k of keys) out[k] = (out[k] ?? 0) + values[at++] / chunks;
    }
    _checkFinite(out, `${opts.stage} step ${s.step + 1}`);
    optimizer.apply(params, acc, s.lr);
    return out;
  } finally {
    for (const g of acc.values()) g.dispose();
    for (const l of logged) l.values.dispose();
  }
}

function _checkFinite(terms: Record<string, number>, where: string): void {
  for (const [k, v] of Object.entries(terms)) {
    if (!Number.isFinite(v)) {
      throw new NonFiniteLossError(
        `${k} loss is ${v} at ${where}; stopped without applying this step (the last good checkpoint ` +
          `is kept: continue with --resume after lowering the learning rate)`,
      );
    }
  }
}

/** Adds `g` into `acc` (taking ownership of `g`). */
function _accumulate(
  acc: Map<string, Tensor>,
  grads: NamedTensorMap,
  names: Map<string, string>,
): void {
  for (const [engineName, g] of Object.entries(grads)) {
    const name = names.get(engineName)!;
    const prev = acc.get(name);
    if (prev) {
      acc.set(name, tf.add(prev, g));
      prev.dispose();
      g.dispose();
    } else acc.set(name, g);
  }
}

/** Micro-batch `c` (of `micro` images) of a step: from the prefetched batch, or read now. */
async function _microBatch(s: StepInputs, c: number): Promise<Batch> {
  const from = c * s.micro, to = Math.min(s.indices.length, from + s.micro);
  if (!s.batch) return await s.data.batch(s.indices.slice(from, to));
  if (from === 0 && to === s.batch.n) return s.batch;
  const px = s.batch.size * s.batch.size * 3;
  return {
    images: s.batch.images.subarray(from * px, to * px),
    labels: s.batch.labels.subarray(from, to),
    n: to - from,
    size: s.batch.size,
  };
}

/** @returns `views` augmented copies of the micro-batch `[B, S, S, 3]` and its labels `[B]` */
function _loadViews(
  b: Batch,
  opts: { cfg: Config; rng: Rng; views: number; augment: AugmentConfig },
): { views: Tensor4D[]; labels: Tensor1D } {
  return tf.tidy(() => {
    const images = tf.tensor4d(b.images, [b.n, b.size, b.size, 3]);
    const views = Array.from(
      { length: opts.views },
      () =>
        augmentBatch(
          images,
          drawAugmentParams(opts.augment, b.n, { size: b.size, rng: opts.rng }),
          opts.cfg.arch,
        ),
    );
    return { views, labels: tf.tensor1d(b.labels, "int32") };
  });
}
