/**
 * The one training loop. A run has up to two stages:
 *
 * 1. `pretrain` (BYEL or BYOL): online + target networks, two augmented views per image;
 * 2. `finetune`: encoder + Dropout + Linear trained with cross-entropy, validated on the
 *    validation set, keeping the weights with the best macro F1. For `baseline` this is the
 *    whole run, from a fresh encoder, for the pretraining + fine-tuning epochs (same budget in
 *    images seen).
 *
 * Each stage runs the same steps, top to bottom: learning rate -> evaluate / checkpoint ->
 * forward/backward (micro-batches summed) -> update -> log -> stop. Every random draw is keyed by
 * (seed, stage, step), so a checkpoint needs only weights, optimizer slots and the step to
 * resume with the same result as an uninterrupted run. The images of step k + 1 are requested
 * before step k trains, so reading and decoding overlap the step.
 *
 * `data.balance` counters class imbalance: `sampler` draws class-balanced epochs (a pure
 * function of seed, stage and epoch, so resuming still reproduces the run), `loss` weights every
 * cross-entropy term by inverse class frequency.
 *
 * @module
 */
import { tf } from "../deps.ts";
import type { Config, OptimizerName } from "../config.ts";
import type { Batch, Dataset } from "../data/dataset.ts";
import { augmentBatch, drawAugmentParams } from "../data/augment.ts";
import { classCounts, classWeights, epochOrder, formatClassDistribution } from "../data/sampler.ts";
import { UserError } from "../errors.ts";
import { exists, writeFileAtomic } from "../fsutil.ts";
import { evaluateDataset } from "../eval/evaluate.ts";
import type { Metrics } from "../eval/metrics.ts";
import { formatMetrics } from "../eval/metrics.ts";
import { type EvalRow, type LossRow, renderReport } from "../eval/report.ts";
import { emotionClassifier } from "../model/heads.ts";
import { readTensors, saveModel, writeTensors } from "../model/io.ts";
import { applyBnUpdates, type ForwardContext } from "../model/layers.ts";
import {
  classifierForward,
  initClassifier,
  initPretrainNets,
  onlineForward,
} from "../model/networks.ts";
import { Params } from "../model/params.ts";
import { VERSION } from "../version.ts";
import { crossEntropy, emaDecayAt, pretrainLoss, targetProjections, updateTarget } from "./byel.ts";
import { Lars } from "./lars.ts";
import { Adam, type Optimizer, Sgd } from "./optimizers.ts";
import { batchIndices, Rng, STREAM } from "./rng.ts";
import { learningRate } from "./schedules.ts";

/** Inputs of {@link train}. */
export interface TrainOptions {
  /** The resolved, validated config. */
  config: Config;
  /** Training images (labels used by BYEL, fine-tuning and baseline). */
  train: Dataset;
  /** Validation images (macro F1 picks the fine-tuned weights). */
  val: Dataset;
  /** Output directory: checkpoint/, model/, best/, report.html, metrics.json. */
  outDir: string;
  /** Name of the active backend, for logs and metadata. */
  backend: string;
  /** Continue from `outDir/checkpoint`. @default false */
  resume?: boolean;
  /** Receives progress lines. @default console.log */
  log?: (line: string) => void;
  /** Test hook: stop (as on Ctrl-C, with a checkpoint) after this many steps of this call. */
  stopAfter?: number;
  /** Listen for Ctrl-C (SIGINT) and checkpoint before exiting. @default true */
  handleSigint?: boolean;
}

/** What {@link train} returns. */
export interface TrainResult {
  /** The saved classifier (best validation macro F1), when the run completed. */
  modelDir?: string;
  /** Validation metrics of that classifier. */
  metrics?: Metrics;
  /** True when stopped early (Ctrl-C or `stopAfter`); a checkpoint was written. */
  interrupted: boolean;
  /** Loss and validation history. */
  losses: LossRow[];
  evals: EvalRow[];
  /** Seconds spent in this call. */
  seconds: number;
}

type Stage = "pretrain" | "finetune";

/** Everything that changes during a run (and is saved in a checkpoint). */
interface RunState {
  stage: Stage | "done";
  /** Steps completed in the current stage. */
  step: number;
  /** The current stage's networks. */
  params: Params;
  optimizer: Optimizer;
  losses: LossRow[];
  evals: EvalRow[];
  best: { macroF1: number; step: number };
}

/** Thrown when a loss is NaN or infinite; the last good checkpoint is kept. */
export class NonFiniteLossError extends UserError {}

/** @returns the number of optimizer steps of a stage @param epochs passes @param n images @param batch per step */
export function stageSteps(epochs: number, n: number, batch: number): number {
  return epochs <= 0 ? 0 : Math.max(1, Math.ceil((epochs * n) / batch));
}

/** @returns the stages a method runs */
export function stagesOf(cfg: Config): Stage[] {
  if (cfg.method === "baseline") return ["finetune"];
  return cfg.skipFinetune ? ["pretrain"] : ["pretrain", "finetune"];
}

/** Steps of each stage for a config and training-set size. */
export function planSteps(cfg: Config, n: number): Record<Stage, number> {
  const ftEpochs = cfg.method === "baseline"
    ? cfg.pretrain.epochs + cfg.finetune.epochs
    : cfg.finetune.epochs;
  return {
    pretrain: cfg.method === "baseline"
      ? 0
      : stageSteps(cfg.pretrain.epochs, n, cfg.pretrain.batch),
    finetune: cfg.skipFinetune && cfg.method !== "baseline"
      ? 0
      : stageSteps(ftEpochs, n, cfg.finetune.batch),
  };
}

function _makeOptimizer(
  kind: OptimizerName,
  s: Config["pretrain"] | Config["finetune"],
): Optimizer {
  const opts = {
    weightDecay: s.weightDecay,
    momentum: s.momentum,
    trust: "trust" in s ? s.trust : 0.001,
  };
  if (kind === "lars") return new Lars(opts);
  if (kind === "adam") return new Adam(opts);
  return new Sgd(opts);
}

const _STAGE_ID: Record<Stage, number> = { pretrain: 0, finetune: 1 };

function _fmtTime(s: number): string {
  if (!Number.isFinite(s)) return "?";
  const m = Math.floor(s / 60);
  return m >= 60
    ? `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`
    : `${m}m${String(Math.round(s % 60)).padStart(2, "0")}s`;
}

/**
 * Runs (or resumes) a training run and saves the classifier with the best validation macro F1
 * in `outDir/model`.
 *
 * @param opts config, data, output directory, backend name
 * @returns where the model went, its metrics, the history, whether it was interrupted
 * @throws NonFiniteLossError when a loss turns NaN/inf (the last checkpoint is kept)
 */
export async function train(opts: TrainOptions): Promise<TrainResult> {
  const { config: cfg, outDir } = opts;
  const log = opts.log ?? ((l: string) => console.log(l));
  const t0 = performance.now();
  await Deno.mkdir(outDir, { recursive: true });
  const ckptDir = `${outDir}/checkpoint`;
  const steps = planSteps(cfg, opts.train.length);
  const stages = stagesOf(cfg);
  const counts = classCounts(opts.train);
  const weights = cfg.data.balance === "loss" ? classWeights(counts) : undefined;
  log(formatClassDistribution(counts, { title: opts.train.name, weights }));

  // -- Ctrl-C: finish the current step, checkpoint, exit -------------------------------------
  let stopRequested = false;
  const onSigint = () => {
    if (stopRequested) Deno.exit(130); // a second Ctrl-C exits at once
    stopRequested = true;
    log("Ctrl-C: finishing this step, then saving a checkpoint (Ctrl-C again to quit now)");
  };
  const listen = opts.handleSigint !== false && Deno.build.os !== "windows";
  if (listen) Deno.addSignalListener("SIGINT", onSigint);

  let state: RunState;
  if (opts.resume) {
    if (!(await exists(`${ckptDir}/model.json`))) {
      throw new UserError(`--resume: no checkpoint in ${ckptDir}; start without --resume`);
    }
    state = await _loadCheckpoint(ckptDir, cfg);
    log(`resumed from ${ckptDir}: ${state.stage} step ${state.step}`);
  } else {
    state = _freshState(cfg, stages[0]);
  }

  let stepsThisCall = 0;
  const weightTensor = weights ? tf.tensor1d(weights) : undefined;
  let inFlight: Promise<unknown> | undefined; // the prefetched batch, settled before returning
  try {
    while (state.stage !== "done") {
      const stage: Stage = state.stage;
      const total = steps[stage];
      const s = cfg[stage];
      const micro = s.microBatch > 0 ? s.microBatch : s.batch;
      const order = _epochOrders(cfg, opts.train, _STAGE_ID[stage]);
      const indicesOf = (k: number) =>
        batchIndices(opts.train.length, s.batch, k, {
          seed: cfg.seed,
          stream: _STAGE_ID[stage],
          order,
        });
      // One step ahead: step k + 1's images are requested before step k trains.
      const load = (k: number) => {
        const indices = indicesOf(k);
        const batch = opts.train.batch(indices);
        batch.catch(() => {}); // awaited below; unawaited only when the run stops early
        return { step: k, indices, batch };
      };
      let ahead: ReturnType<typeof load> | undefined;
      let interval = { images: 0, seconds: 0, n: 0, sums: {} as Record<string, number> };
      if (state.step === 0) {
        log(
          `${stage}: ${total} steps of ${s.batch} images (micro-batch ${micro}), ${s.optimizer} lr ${s.lr}, ` +
            `${state.params.count()} parameters, method ${cfg.method}, backend ${opts.backend}`,
        );
      }
      while (state.step < total) {
        const step = state.step;
        // -- learning rate -------------------------------------------------------------------
        const lr = learningRate(step, total, {
          base: s.lr,
          warmup: s.warmupSteps,
          schedule: s.schedule,
        });

        // -- evaluate and checkpoint (before the step, so the state on disk is always "good") --
        if (
          step > 0 && cfg.checkpointEvery > 0 && step % cfg.checkpointEvery === 0 &&
          stepsThisCall > 0
        ) {
          await _saveCheckpoint(ckptDir, state, cfg);
        }
        if (
          stage === "finetune" && step > 0 && _isEvalStep(step, cfg, opts.train.length) &&
          !state.evals.some((e) => e.step === step)
        ) {
          await _validate(state, cfg, opts, step, log, t0);
        }

        // -- forward / backward over micro-batches, then one update ---------------------------
        const tStep = performance.now();
        const current = ahead?.step === step ? ahead : load(step);
        ahead = step + 1 < total ? load(step + 1) : undefined;
        inFlight = ahead?.batch;
        const inputs: StepInputs = {
          cfg,
          data: opts.train,
          indices: current.indices,
          batch: await current.batch,
          micro,
          step,
          lr,
          classWeights: weightTensor,
        };
        const terms = stage === "pretrain"
          ? await pretrainStep(state.params, state.optimizer, { ...inputs, total })
          : await finetuneStep(state.params, state.optimizer, inputs);
        state.step++;
        stepsThisCall++;

        // -- log -------------------------------------------------------------------------------
        const dt = (performance.now() - tStep) / 1000;
        interval.images += s.batch;
        interval.seconds += dt;
        interval.n++;
        for (const [k, v] of Object.entries(terms)) interval.sums[k] = (interval.sums[k] ?? 0) + v;
        if (state.step % cfg.logEvery === 0 || state.step === total) {
          const mean = Object.fromEntries(
            Object.entries(interval.sums).map(([k, v]) => [k, v / interval.n]),
          );
          const ips = interval.images / interval.seconds;
          const eta = ((total - state.step) * s.batch) / ips;
          state.losses.push({ stage, step: state.step, losses: mean, lr, imagesPerSecond: ips });
          const parts = Object.entries(mean).filter(([k]) => k !== "loss").map(([k, v]) =>
            `${k} ${v.toFixed(4)}`
          );
          log(
            `${stage} step ${String(state.step).padStart(String(total).length)}/${total} | loss ${
              mean.loss.toFixed(4)
            }` +
              (parts.length ? ` (${parts.join(" ")})` : "") +
              ` | lr ${lr.toPrecision(3)} | ${ips.toFixed(1)} img/s | ETA ${
                _fmtTime(eta)
              } | ${opts.backend}`,
          );
          interval = { images: 0, seconds: 0, n: 0, sums: {} };
        }

        // -- stop --------------------------------------------------------------------------------
        if (stopRequested || (opts.stopAfter !== undefined && stepsThisCall >= opts.stopAfter)) {
          await _saveCheckpoint(ckptDir, state, cfg);
          await _writeReport(outDir, state, cfg, opts.backend);
          log(
            `stopped at ${stage} step ${state.step}/${total}; checkpoint in ${ckptDir} (continue with --resume)`,
          );
          return _result(state, t0, true);
        }
      }

      // -- end of stage ------------------------------------------------------------------------
      if (stage === "pretrain") {
        const next = stages.includes("finetune") ? "finetune" : "done";
        if (next === "finetune") {
          const classifier = initClassifier(cfg, state.params);
          state.params.dispose();
          state.optimizer.dispose();
          state.params = classifier;
          state.optimizer = _makeOptimizer(cfg.finetune.optimizer, cfg.finetune);
        }
        state.stage = next;
        state.step = 0;
      } else {
        if (!state.evals.some((e) => e.step === state.step)) {
          await _validate(state, cfg, opts, state.step, log, t0);
        }
        state.stage = "done";
      }
      await _saveCheckpoint(ckptDir, state, cfg);
    }
  } finally {
    if (listen) Deno.removeSignalListener("SIGINT", onSigint);
    weightTensor?.dispose();
    await inFlight?.catch(() => {});
    // On every exit (done, interrupted, NaN): the weights live on disk from here on.
    state.params.dispose();
    state.optimizer.dispose();
  }

  // -- the final model: the best fine-tuned weights (or, without fine-tuning, the encoder) ----
  const modelDir = `${outDir}/model`;
  let metrics: Metrics | undefined;
  if (await exists(`${outDir}/best/model.json`)) {
    const best = await readTensors(`${outDir}/best`);
    for (const t of best.tensors.values()) t.dispose();
    metrics = best.metadata.metrics as unknown as Metrics;
    await Deno.remove(modelDir, { recursive: true }).catch(() => {});
    await Deno.rename(`${outDir}/best`, modelDir);
  }
  await _writeReport(outDir, state, cfg, opts.backend, metrics);
  if (metrics) {
    await writeFileAtomic(`${outDir}/metrics.json`, JSON.stringify(metrics, null, 1) + "\n");
    log(
      `best validation macro F1 ${
        metrics.macroF1.toFixed(4)
      } (fine-tune step ${state.best.step}); model in ${modelDir}`,
    );
    log(formatMetrics(metrics));
  }
  const result = _result(state, t0, false);
  return { ...result, modelDir: metrics ? modelDir : undefined, metrics };
}

function _result(state: RunState, t0: number, interrupted: boolean): TrainResult {
  return {
    interrupted,
    losses: state.losses,
    evals: state.evals,
    seconds: (performance.now() - t0) / 1000,
  };
}

function _isEvalStep(step: number, cfg: Config, n: number): boolean {
  const every = cfg.finetune.evalEvery > 0
    ? cfg.finetune.evalEvery
    : Math.max(1, Math.round(n / cfg.finetune.batch));
  return step % every === 0;
}

/**
 * The epoch orders of a stage under `--balance sampler` (class-balanced, keyed by seed, stage
 * and epoch; the last two epochs memoised), or undefined for the plain seeded shuffle.
 */
function _epochOrders(
  cfg: Config,
  data: Dataset,
  stream: number,
): ((epoch: number) => Int32Array) | undefined {
  if (cfg.data.balance !== "sampler") return undefined;
  // Stream 0 (pretraining) uses the seed itself; fine-tuning gets its own orders.
  const seed = (cfg.seed ^ Math.imul(stream, 0x9e3779b1)) >>> 0;
  const memo = new Map<number, Int32Array>();
  return (epoch) => {
    let o = memo.get(epoch);
    if (!o) {
      o = epochOrder(data, { balance: "sampler", seed, epoch });
      if (memo.size >= 2) memo.delete(memo.keys().next().value!);
      memo.set(epoch, o);
    }
    return o;
  };
}

function _freshState(cfg: Config, stage: Stage): RunState {
  const params = stage === "pretrain" ? initPretrainNets(cfg) : initClassifier(cfg);
  return {
    stage,
    step: 0,
    params,
    optimizer: _makeOptimizer(cfg[stage].optimizer, cfg[stage]),
    losses: [],
    evals: [],
    best: { macroF1: -1, step: -1 },
  };
}

/** Validates the classifier, records it, and saves it to `best/` when it improves. */
async function _validate(
  state: RunState,
  cfg: Config,
  opts: TrainOptions,
  step: number,
  log: (l: string) => void,
  t0: number,
): Promise<void> {
  const p = state.params;
  const m = await evaluateDataset(
    (x) => classifierForward(p, x, { arch: cfg.arch, ctx: { train: false } }),
    opts.val,
    {
      inputSize: cfg.arch.inputSize,
    },
  );
  state.evals.push({ stage: "finetune", step, macroF1: m.macroF1, accuracy: m.accuracy });
  const better = m.macroF1 > state.best.macroF1;
  log(
    `validate finetune step ${step}: macro F1 ${m.macroF1.toFixed(4)} accuracy ${
      m.accuracy.toFixed(4)
    } ` +
      `on ${opts.val.name}${better ? " (best so far, saved)" : ""}`,
  );
  if (better) {
    state.best = { macroF1: m.macroF1, step };
    await saveModel(`${opts.outDir}/best`, p, {
      arch: cfg.arch,
      metadata: {
        config: cfg,
        method: cfg.method,
        backend: opts.backend,
        seed: cfg.seed,
        metrics: m as unknown as Record<string, unknown>,
        version: VERSION,
        step,
        trainData: opts.train.name,
        valData: opts.val.name,
        trainSeconds: (performance.now() - t0) / 1000,
      },
    });
  }
}

/** Inputs of one step. */
export interface StepInputs {
  cfg: Config;
  data: Dataset;
  indices: number[];
  /** The images of `indices`, already read (the loop prefetches them); else read from `data`. */
  batch?: Batch;
  micro: number;
  step: number;
  lr: number;
  /** `[6]` class weights of the cross-entropy terms (`--balance loss`). */
  classWeights?: tf.Tensor1D;
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
  acc: Map<string, tf.Tensor>,
  grads: tf.NamedTensorMap,
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

function _loadViews(
  b: Batch,
  opts: { cfg: Config; rng: Rng; views: number; augment: Config["pretrain"]["augment"] },
): { views: tf.Tensor4D[]; labels: tf.Tensor1D } {
  return tf.tidy(() => {
    const images = tf.tensor4d(b.images, [b.n, b.size, b.size, 3]);
    const views = Array.from(
      { length: opts.views },
      () =>
        augmentBatch(
          images,
          drawAugmentParams(opts.augment, b.n, { size: b.size, rng: opts.rng }),
          {
            outSize: opts.cfg.arch.inputSize,
          },
        ),
    );
    return { views, labels: tf.tensor1d(b.labels, "int32") };
  });
}

/**
 * One pretraining step (BYEL or BYOL): two views per image, target projections as constants,
 * gradients summed over micro-batches, one optimizer update, then the target EMA.
 *
 * @returns the mean loss terms of the step
 */
export async function pretrainStep(
  p: Params,
  optimizer: Optimizer,
  s: StepInputs & { total: number },
): Promise<Record<string, number>> {
  const { cfg, micro } = s;
  const method = cfg.method === "byol" ? "byol" : "byel";
  const names = p.trainable("online.");
  const vars = names.map((n) => p.get(n));
  const engineToName = new Map(names.map((n, i) => [vars[i].name, n]));
  const acc = new Map<string, tf.Tensor>();
  const chunks = Math.ceil(s.indices.length / micro);
  const sums = { loss: 0, byol: 0, cls: 0, orth: 0 };
  for (let c = 0; c < chunks; c++) {
    const rng = new Rng(cfg.seed, STREAM.augment, _STAGE_ID.pretrain, s.step, c);
    const { views, labels } = _loadViews(await _microBatch(s, c), {
      cfg,
      rng,
      views: 2,
      augment: cfg.pretrain.augment,
    });
    const [v1, v2] = views;
    // Stop-gradient: the target runs outside tf.variableGrads, so its projections enter the
    // loss as constants; the target's weights change only through the EMA below.
    const targets = targetProjections(p, { v1, v2 }, cfg.arch);
    const ctx: ForwardContext = { train: true, bnUpdates: [] };
    let terms: { byol: tf.Scalar; cls: tf.Scalar; orth: tf.Scalar } | undefined;
    const { value, grads } = tf.variableGrads(() => {
      const l = pretrainLoss(p, { v1, v2 }, {
        arch: cfg.arch,
        method,
        targets,
        labels,
        ctx,
        classWeights: s.classWeights,
      });
      terms = { byol: tf.keep(l.byol), cls: tf.keep(l.cls), orth: tf.keep(l.orth) };
      // Micro-batch losses are averaged: the summed gradients equal the full batch's mean.
      return tf.div(l.total, chunks) as tf.Scalar;
    }, vars);
    _accumulate(acc, grads, engineToName);
    const [b, cl, o] = [terms!.byol, terms!.cls, terms!.orth].map((t) => t.dataSync()[0]);
    sums.byol += b / chunks;
    sums.cls += cl / chunks;
    sums.orth += o / chunks;
    sums.loss += value.dataSync()[0];
    tf.dispose([
      value,
      v1,
      v2,
      labels,
      targets.z1,
      targets.z2,
      terms!.byol,
      terms!.cls,
      terms!.orth,
    ]);
    applyBnUpdates(p, ctx.bnUpdates!);
  }
  const out = method === "byol" ? { loss: sums.loss } : sums;
  try {
    _checkFinite(out, `pretrain step ${s.step + 1}`);
    optimizer.apply(p, acc, s.lr);
  } finally {
    for (const g of acc.values()) g.dispose();
  }
  updateTarget(
    p,
    emaDecayAt(s.step, s.total, {
      base: cfg.pretrain.emaDecay,
      schedule: cfg.pretrain.emaSchedule,
    }),
  );
  return out;
}

/**
 * One supervised step (fine-tuning or baseline): one view, dropout, cross-entropy.
 *
 * @returns `{ loss }`
 */
export async function finetuneStep(
  p: Params,
  optimizer: Optimizer,
  s: StepInputs,
): Promise<Record<string, number>> {
  const { cfg, micro } = s;
  const names = p.trainable();
  const vars = names.map((n) => p.get(n));
  const engineToName = new Map(names.map((n, i) => [vars[i].name, n]));
  const acc = new Map<string, tf.Tensor>();
  const chunks = Math.ceil(s.indices.length / micro);
  let loss = 0;
  for (let c = 0; c < chunks; c++) {
    const rng = new Rng(cfg.seed, STREAM.augment, _STAGE_ID.finetune, s.step, c);
    const { views, labels } = _loadViews(await _microBatch(s, c), {
      cfg,
      rng,
      views: 1,
      augment: cfg.finetune.augment,
    });
    const dropoutRng = new Rng(cfg.seed, STREAM.dropout, s.step, c);
    const ctx: ForwardContext = { train: true, bnUpdates: [] };
    const { value, grads } = tf.variableGrads(() =>
      tf.div(
        crossEntropy(
          classifierForward(p, views[0], {
            arch: cfg.arch,
            ctx,
            dropout: cfg.finetune.dropout,
            dropoutRng,
          }),
          labels,
          s.classWeights,
        ),
        chunks,
      ) as tf.Scalar, vars);
    _accumulate(acc, grads, engineToName);
    loss += value.dataSync()[0];
    tf.dispose([value, views[0], labels]);
    applyBnUpdates(p, ctx.bnUpdates!);
  }
  try {
    _checkFinite({ loss }, `finetune step ${s.step + 1}`);
    optimizer.apply(p, acc, s.lr);
  } finally {
    for (const g of acc.values()) g.dispose();
  }
  return { loss };
}

// -- checkpoints -----------------------------------------------------------------------------

async function _saveCheckpoint(dir: string, state: RunState, cfg: Config): Promise<void> {
  const tensors = new Map<string, tf.Tensor>();
  for (const [n, v] of state.params.vars) tensors.set(`params/${n}`, v);
  for (const [n, v] of state.optimizer.state) tensors.set(`optimizer/${n}`, v);
  await writeTensors(dir, tensors, {
    format: "byel-checkpoint",
    topology: { arch: cfg.arch },
    metadata: {
      config: cfg as unknown as Record<string, NonNullable<unknown>>,
      stage: state.stage,
      step: state.step,
      optimizer: state.optimizer.kind,
      best: state.best,
      losses: state.losses as unknown as NonNullable<unknown>,
      evals: state.evals as unknown as NonNullable<unknown>,
      version: VERSION,
      // Random draws are keyed by (seed, stage, step): the step is the whole RNG state.
      rng: { seed: cfg.seed, keyedBy: "seed, stage, step" },
    },
  });
}

async function _loadCheckpoint(dir: string, cfg: Config): Promise<RunState> {
  const { tensors, format, metadata } = await readTensors(dir);
  if (format !== "byel-checkpoint") throw new UserError(`${dir} is not a byel checkpoint`);
  const saved = metadata.config as unknown as Config;
  if (JSON.stringify(saved) !== JSON.stringify(cfg)) {
    for (const t of tensors.values()) t.dispose();
    throw new UserError(
      `--resume: the checkpoint in ${dir} was made with a different config; resume with the same flags ` +
        `(or start a new --out)`,
    );
  }
  const stage = metadata.stage as Stage | "done";
  const params = new Params();
  const optimizer = _makeOptimizer(
    stage === "done" ? cfg.finetune.optimizer : cfg[stage].optimizer,
    stage === "done" ? cfg.finetune : cfg[stage],
  );
  for (const [n, t] of tensors) {
    if (n.startsWith("params/")) params.add(n.slice(7), t);
    else if (n.startsWith("optimizer/")) {
      optimizer.state.set(n.slice(10), tf.variable(t, false));
      t.dispose();
    }
  }
  return {
    stage,
    step: metadata.step as number,
    params,
    optimizer,
    losses: metadata.losses as unknown as LossRow[],
    evals: metadata.evals as unknown as EvalRow[],
    best: metadata.best as { macroF1: number; step: number },
  };
}

async function _writeReport(
  outDir: string,
  state: RunState,
  cfg: Config,
  backend: string,
  final?: Metrics,
): Promise<void> {
  const html = renderReport(`byel ${cfg.method} run (${outDir})`, {
    losses: state.losses,
    evals: state.evals,
    final,
    meta: {
      method: cfg.method,
      backend,
      seed: cfg.seed,
      arch: cfg.arch,
      version: VERSION,
      stage: state.stage,
      step: state.step,
    },
  });
  await writeFileAtomic(`${outDir}/report.html`, html);
}

/** Exposed for tests: the online network's BYEL classifier logits (evaluation mode). */
export function onlineEmotionLogits(p: Params, x: tf.Tensor4D, cfg: Config): tf.Tensor2D {
  return tf.tidy(() => {
    const o = onlineForward(p, x, { arch: cfg.arch, ctx: { train: false } });
    return emotionClassifier(p, "online.emotion", o.p, { train: false });
  });
}
