/**
 * The benchmarked steps, on random inputs, built from the library's own networks and training
 * functions so that the numbers are the numbers of real training:
 *
 * - `supervised`: ResNet forward with BatchNorm in training mode, softmax cross-entropy on a
 *   linear 6-way head (no bias), backward, plain SGD update;
 * - `byel`: one BYEL pretraining step as `src/train/loop.ts` runs it: target projections of two
 *   views (outside the gradient), online forward/backward of both views through encoder,
 *   projector, predictor and emotion classifier with EVS, LARS update, BatchNorm running
 *   statistics, EMA of the target;
 * - `inference`: encoder (BatchNorm with running statistics) and the 6-way head, forward only.
 *
 * `bench/reference_torch.py` builds the same steps in PyTorch.
 *
 * @module
 */
import { tf } from "../src/deps.ts";
import { type ArchConfig, type Config, QUICK } from "../src/config.ts";
import { NUM_CLASSES } from "../src/emotions.ts";
import { applyBnUpdates, type ForwardContext } from "../src/model/layers.ts";
import { initPretrainNets } from "../src/model/networks.ts";
import { Params } from "../src/model/params.ts";
import { encoderForward, encoderInit } from "../src/model/encoder.ts";
import { pretrainLoss, targetProjections, updateTarget } from "../src/train/byel.ts";
import { Lars } from "../src/train/lars.ts";
import { Rng } from "../src/rng.ts";
import type { HeadSizes, StepKind } from "./flops.ts";

/** A step ready to run repeatedly on the active backend. */
export interface BenchStep {
  /** Runs one step and waits for the device. */
  run(): Promise<void>;
  /** Scalars in the networks. */
  params: number;
  /** Frees the networks and inputs. */
  dispose(): void;
}

/** What to build. */
export interface StepSpec {
  kind: StepKind;
  arch: ArchConfig;
  /** Images per step (per view for BYEL). */
  batch: number;
  /** BYEL heads. @default the quick preset's (hidden 512, D 256) */
  heads?: HeadSizes;
}

/** @returns the BYEL pretraining config of a benchmark row (LARS as the paper, quick heads) */
export function benchConfig(arch: ArchConfig, heads?: HeadSizes): Config {
  return {
    ...QUICK,
    method: "byel",
    arch,
    pretrain: {
      ...QUICK.pretrain,
      hidden: heads?.hidden ?? QUICK.pretrain.hidden,
      projectionDim: heads?.projectionDim ?? QUICK.pretrain.projectionDim,
    },
  };
}

function _inputs(batch: number, size: number) {
  const labels = tf.tensor1d(Array.from({ length: batch }, (_, i) => i % NUM_CLASSES), "int32");
  const view = (seed: number) =>
    tf.randomUniform([batch, size, size, 3], 0, 1, "float32", seed) as tf.Tensor4D;
  return { v1: view(3), v2: view(4), labels };
}

/**
 * Builds a step on the active backend.
 *
 * @param spec step, architecture, batch
 * @returns the step (caller disposes)
 */
export function buildStep(spec: StepSpec): BenchStep {
  if (spec.kind === "byel") return _byelStep(spec);
  const { arch, batch } = spec;
  const p = new Params();
  const dim = encoderInit(p, "net", { arch, rng: new Rng(1) });
  p.add("head.w", tf.randomNormal([dim, NUM_CLASSES], 0, 0.01, "float32", 2));
  const trainable = p.trainable().map((n) => p.get(n));
  const { v1: x, v2, labels } = _inputs(batch, arch.inputSize);
  v2.dispose();
  const y = tf.oneHot(labels, NUM_CLASSES);
  const head = p.get("head.w");
  const supervised = () =>
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => {
        const feat = encoderForward(p, "net", x, { arch, ctx: { train: true } }); // [B, F]
        return tf.losses.softmaxCrossEntropy(y, tf.matMul(feat, head)) as tf.Scalar;
      }, trainable);
      for (const v of trainable) v.assign(tf.sub(v, tf.mul(grads[v.name], 0.01)));
      return value;
    });
  const inference = () =>
    tf.tidy(() => tf.matMul(encoderForward(p, "net", x, { arch, ctx: { train: false } }), head));
  return {
    run: async () => {
      const out = spec.kind === "supervised" ? supervised() : inference();
      await out.data(); // wait for the device
      out.dispose();
    },
    params: p.count(),
    dispose: () => {
      tf.dispose([x, y, labels]);
      p.dispose();
    },
  };
}

function _byelStep(spec: StepSpec): BenchStep {
  const cfg = benchConfig(spec.arch, spec.heads);
  const p = initPretrainNets(cfg, { emotion: true });
  const names = p.trainable("online.");
  const vars = names.map((n) => p.get(n));
  const engineToName = new Map(names.map((n, i) => [vars[i].name, n]));
  const { pretrain } = cfg;
  const optimizer = new Lars({
    weightDecay: pretrain.weightDecay,
    momentum: pretrain.momentum,
    trust: pretrain.trust,
  });
  const { v1, v2, labels } = _inputs(spec.batch, spec.arch.inputSize);
  return {
    run: async () => {
      // Stop-gradient: the target's projections are computed outside tf.variableGrads.
      const targets = targetProjections(p, { v1, v2 }, cfg.arch);
      const ctx: ForwardContext = { train: true, bnUpdates: [] };
      const { value, grads } = tf.variableGrads(
        () =>
          pretrainLoss(p, { v1, v2 }, {
            arch: cfg.arch,
            emotion: true,
            weights: cfg.pretrain.lossWeights,
            targets,
            labels,
            ctx,
          })
            .total,
        vars,
      );
      const named = new Map(Object.entries(grads).map(([k, g]) => [engineToName.get(k)!, g]));
      optimizer.apply(p, named, pretrain.lr);
      tf.dispose([targets.z1, targets.z2, ...named.values()]);
      applyBnUpdates(p, ctx.bnUpdates!);
      updateTarget(p, pretrain.emaDecay);
      await value.data();
      value.dispose();
    },
    params: p.count("online."),
    dispose: () => {
      tf.dispose([v1, v2, labels]);
      optimizer.dispose();
      p.dispose();
    },
  };
}
