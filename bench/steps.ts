/**
 * The benchmarked steps: the library's own training steps and inference, set up as the training
 * loop sets them up (`freshState` of `src/train/checkpoint.ts`: the stage's networks and the
 * optimizer its config names), on a fixed batch of random images, so that the numbers are the
 * numbers of real training, augmentation on the backend included:
 *
 * - `supervised`: one `finetuneStep` (`src/train/step.ts`): upload, one augmented view
 *   (`finetune.augment`), encoder with BatchNorm in training mode, dropout, the 6-way head,
 *   cross-entropy, backward, the `finetune.optimizer` update, BatchNorm running statistics;
 * - `byel`: one BYEL `pretrainStep`: upload, two augmented views (`pretrain.augment`), target
 *   projections outside the gradient, online encoder, projector, predictor and emotion
 *   classifier with EVS, backward, the `pretrain.optimizer` update, running statistics, EMA of
 *   the target;
 * - `inference`: a saved classifier's `classify()` (`src/model/classifier.ts`) with one view
 *   (`tta: "none"`): upload, normalisation, encoder with folded BatchNorm, head, softmax, one
 *   read back.
 *
 * The learning rate follows the stage's schedule over the steps of a full run of the config,
 * from step 0, as in training. Only the images are not the loop's: reading, rendering and the
 * memory cache are what the `loop/*` rows of `bench/byel_bench.ts` add.
 *
 * `bench/reference_torch.py` builds the same steps in PyTorch from the config's `BenchSpec`.
 *
 * @module
 */
import { tf } from "../src/deps.ts";
import type { Config } from "../src/config.ts";
import type { Batch, Dataset } from "../src/data/dataset.ts";
import { NUM_CLASSES } from "../src/emotions.ts";
import { classifierModel } from "../src/model/classifier.ts";
import { initClassifier } from "../src/model/networks.ts";
import { Rng } from "../src/rng.ts";
import { freshState } from "../src/train/checkpoint.ts";
import { stageSteps } from "../src/train/methods.ts";
import { learningRate } from "../src/train/schedules.ts";
import { finetuneStep, pretrainStep, type StepInputs } from "../src/train/step.ts";
import { VERSION } from "../src/version.ts";
import type { StepKind } from "./flops.ts";

/** A step ready to run repeatedly on the active backend. */
export interface BenchStep {
  /** Runs one step and waits for the device. */
  run(): Promise<void>;
  /** Images per step (pairs of views for BYEL). */
  images: number;
  /** Scalars in the trained (or, for inference, evaluated) networks. */
  params: number;
  /** Frees the networks, optimizer state and inputs. */
  dispose(): void;
}

/** What to build. */
export interface StepSpec {
  kind: StepKind;
  /**
   * The run config whose step to time: `arch`, and `pretrain` (`byel`) or `finetune`
   * (`supervised`, `inference`: its batch) with their optimizers and augmentations.
   */
  config: Config;
}

/**
 * `n` random images of `size` px, classes cycling through the six.
 *
 * @param n images @param size side in pixels
 * @returns `[n, size, size, 3]` float32 in [0, 1], as a dataset returns them
 */
export function randomBatch(n: number, size: number, seed = 1): Batch {
  const rng = new Rng(seed);
  const images = new Float32Array(n * size * size * 3).map(() => rng.uniform());
  const labels = Int32Array.from({ length: n }, (_, i) => i % NUM_CLASSES);
  return { images, labels, n, size };
}

/** A dataset that always returns the same batch (the steps are handed it directly anyway). */
function _fixedData(batch: Batch): Dataset {
  return {
    name: `random(${batch.n} @ ${batch.size}px)`,
    length: batch.n,
    size: batch.size,
    label: (i) => batch.labels[i],
    batch: () => Promise.resolve(batch),
  };
}

/**
 * Builds a step on the active backend.
 *
 * @param spec step kind and config
 * @returns the step (caller disposes)
 * @example
 * ```ts
 * const step = buildStep({ kind: "byel", config: QUICK });
 * await step.run();
 * step.dispose();
 * ```
 */
export function buildStep(spec: StepSpec): BenchStep {
  const { kind } = spec;
  if (kind === "inference") return _inference(spec.config);
  const stage = kind === "byel" ? "pretrain" : "finetune";
  // The pretraining step is BYEL's whatever the preset's method (BYOL is the same step less
  // the classifier and EVS).
  const cfg: Config = kind === "byel" ? { ...spec.config, method: "byel" } : spec.config;
  const s = cfg[stage];
  const batch = randomBatch(s.batch, cfg.arch.inputSize);
  const state = freshState(cfg, stage);
  const total = stageSteps(s.epochs, cfg.data.trainSize, s.batch);
  const indices = Array.from({ length: s.batch }, (_, i) => i);
  let step = 0;
  return {
    run: async () => {
      const k = step++ % Math.max(1, total);
      const inputs: StepInputs = {
        cfg,
        data: _fixedData(batch),
        indices,
        batch,
        micro: s.microBatch > 0 ? s.microBatch : s.batch,
        step: k,
        lr: learningRate(k, total, { base: s.lr, warmup: s.warmupSteps, schedule: s.schedule }),
      };
      // Each step reads its loss back before returning, so it has waited for the device.
      if (kind === "byel") {
        await pretrainStep(state.params, state.optimizer, { ...inputs, total, emotion: true });
      } else await finetuneStep(state.params, state.optimizer, inputs);
    },
    images: s.batch,
    params: state.params.count(kind === "byel" ? "online." : ""),
    dispose: () => {
      state.params.dispose();
      state.optimizer.dispose();
    },
  };
}

function _inference(cfg: Config): BenchStep {
  const batch = randomBatch(cfg.finetune.batch, cfg.arch.inputSize);
  const model = classifierModel(initClassifier(cfg), cfg.arch, {
    config: cfg,
    method: cfg.method,
    backend: tf.getBackend(),
    seed: cfg.seed,
    version: VERSION,
  });
  return {
    // One view, as the reference's forward: the six views of the default test-time
    // augmentation would be six times the work (see `src/eval/tta.ts`).
    run: async () => {
      await model.classify(batch, { tta: "none" });
    },
    images: batch.n,
    params: model.params.count(),
    dispose: () => model.dispose(),
  };
}
