/**
 * The one training loop. A run has up to two stages (see `methods.ts`):
 *
 * 1. `pretrain` (BYEL or BYOL): online + target networks, two augmented views per image;
 * 2. `finetune`: encoder + Dropout + Linear trained with cross-entropy, validated on the
 *    validation set, keeping the weights with the best macro F1. For `baseline` this is the
 *    whole run, from a fresh encoder, for the pretraining + fine-tuning epochs (same budget in
 *    images seen).
 *
 * Each stage runs the same steps, top to bottom: learning rate -> evaluate / checkpoint ->
 * forward/backward (`step.ts`) -> log -> stop. Every random draw is keyed by (seed, stage,
 * step), so a checkpoint needs only weights, optimizer slots and the step to resume with the
 * same result as an uninterrupted run (`checkpoint.ts`). The images of step k + 1 are
 * requested before step k trains, so reading and decoding overlap the step.
 *
 * `data.balance` counters class imbalance: `sampler` draws class-balanced epochs (a pure
 * function of seed, stage and epoch, so resuming still reproduces the run), `loss` weights every
 * cross-entropy term by inverse class frequency.
 *
 * @module
 */
import { tf } from "../deps.ts";
import { checkRunMemory } from "../backend/memory.ts";
import type { Config } from "../config.ts";
import type { Batch, Dataset } from "../data/dataset.ts";
import { MemoryCache, memoryCacheBytes } from "../data/memory.ts";
import { RenderWorker } from "../data/synth/workers.ts";
import {
  batchIndices,
  classCounts,
  classWeights,
  epochOrders,
  formatClassDistribution,
} from "../data/sampler.ts";
import { exists, writeFileAtomic } from "../fsutil.ts";
import { evaluateDataset } from "../eval/evaluate.ts";
import { formatMetrics, type Metrics } from "../eval/metrics.ts";
import { type EvalRow, type LossRow, renderReport } from "../eval/report.ts";
import { readTensors, saveModel } from "../model/io.ts";
import { classifierForward } from "../model/networks.ts";
import { VERSION } from "../version.ts";
import {
  advanceStage,
  freshState,
  loadCheckpoint,
  type RunState,
  saveCheckpoint,
} from "./checkpoint.ts";
import { methodPlan, planSteps, type Stage, STAGE_ID } from "./methods.ts";
import { claimOutDir } from "./outdir.ts";
import { learningRate } from "./schedules.ts";
import { averageDecayAt, updateAverage } from "./average.ts";
import { finetuneStep, pretrainStep, type StepInputs } from "./step.ts";
import type { Tensor1D } from "../tensors.ts";

export { NonFiniteLossError } from "./step.ts";

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
  /** Replace a previous run in `outDir` (its files are removed first). @default false */
  overwrite?: boolean;
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
  /** Validation history. */
  evals: EvalRow[];
  /** Seconds spent in this call. */
  seconds: number;
}

/** What a stage loop needs besides the state. */
interface _Run {
  opts: TrainOptions;
  cfg: Config;
  log: (line: string) => void;
  t0: number;
  ckptDir: string;
  /** Steps of each stage. */
  steps: Record<Stage, number>;
  /** `[6]` class weights of every cross-entropy (`--balance loss`). */
  classWeights?: Tensor1D;
  /** Steps run in this call (a resumed run does not checkpoint before its first step). */
  stepsThisCall: number;
  /** Set by Ctrl-C: stop after the current step. */
  stopRequested: boolean;
  /** The prefetched batch, settled before returning. */
  inFlight?: Promise<unknown>;
}

/**
 * Runs (or resumes) a training run and saves the classifier with the best validation macro F1
 * in `outDir/model`.
 *
 * @param opts config, data, output directory, backend name
 * @returns where the model went, its metrics, the history, whether it was interrupted
 * @throws NonFiniteLossError when a loss turns NaN/inf (the last checkpoint is kept)
 * @example
 * ```ts
 * const config = resolveConfig("quick", { seed: "1" });
 * const { train: images, val, close } = await openRunData(config);
 * const r = await train({ config, train: images, val, outDir: "runs/s1", backend: "wasm" });
 * close();
 * console.log(r.modelDir, r.metrics?.macroF1);
 * ```
 */
export async function train(opts: TrainOptions): Promise<TrainResult> {
  const { config: cfg, outDir } = opts;
  const log = opts.log ?? ((l: string) => console.log(l));
  const plan = methodPlan(cfg);
  checkRunMemory(cfg, opts.backend, { stages: plan.stages });
  const claim = await claimOutDir(outDir, { resume: opts.resume, overwrite: opts.overwrite, log });
  try {
    return await _train(opts, plan, log);
  } finally {
    await claim.release();
  }
}

async function _train(
  given: TrainOptions,
  plan: ReturnType<typeof methodPlan>,
  log: (line: string) => void,
): Promise<TrainResult> {
  const { config: cfg, outDir } = given;
  const counts = classCounts(given.train);
  const weights = cfg.data.balance === "loss" ? classWeights(counts) : undefined;
  log(formatClassDistribution(counts, { title: given.train.name, weights }));
  if (given.train instanceof RenderWorker) log(`training faces rendered in ${given.train.where}`);
  const train = _inMemory(given.train, cfg.data.memoryMB, log);
  // The validation images too, when they fit in what is left (validated once per epoch).
  const left = cfg.data.memoryMB - (train === given.train ? 0 : memoryCacheBytes(train) / 2 ** 20);
  const val =
    left > 0 && memoryCacheBytes(given.val) / 2 ** 20 <= left && !(given.val instanceof MemoryCache)
      ? new MemoryCache(given.val)
      : given.val;
  const opts = { ...given, train, val };
  const run: _Run = {
    opts,
    cfg,
    log,
    t0: performance.now(),
    ckptDir: `${outDir}/checkpoint`,
    steps: planSteps(cfg, opts.train.length),
    classWeights: weights ? tf.tensor1d(weights) : undefined,
    stepsThisCall: 0,
    stopRequested: false,
  };

  // -- Ctrl-C: finish the current step, checkpoint, exit -------------------------------------
  let listening = opts.handleSigint !== false && Deno.build.os !== "windows";
  const onSigint = () => {
    run.stopRequested = true;
    // No longer listening: a second Ctrl-C gets the default action and ends the process at
    // once, even inside a long step (the checkpoint of the last finished step stays on disk).
    Deno.removeSignalListener("SIGINT", onSigint);
    listening = false;
    log("Ctrl-C: finishing this step, then saving a checkpoint (Ctrl-C again to quit now)");
  };
  if (listening) Deno.addSignalListener("SIGINT", onSigint);

  let state: RunState;
  if (opts.resume) {
    state = await loadCheckpoint(run.ckptDir, cfg);
    log(`resumed from ${run.ckptDir}: ${state.stage} step ${state.step}`);
  } else {
    state = freshState(cfg, plan.stages[0]);
  }

  try {
    while (state.stage !== "done") {
      if (await _runStage(run, state) === "interrupted") {
        await saveCheckpoint(run.ckptDir, state, cfg);
        await _writeReport(outDir, state, cfg, opts.backend);
        log(
          `stopped at ${state.stage} step ${state.step}/${
            run.steps[state.stage]
          }; checkpoint in ${run.ckptDir} (continue with --resume)`,
        );
        return _result(state, run.t0, true);
      }
      // -- end of stage: the last validation, then on to the next stage --------------------
      if (state.stage === "finetune" && !state.evals.some((e) => e.step === state.step)) {
        await _validate(run, state, state.step);
      }
      advanceStage(state, cfg);
      await saveCheckpoint(run.ckptDir, state, cfg);
    }
  } finally {
    if (listening) Deno.removeSignalListener("SIGINT", onSigint);
    run.classWeights?.dispose();
    await run.inFlight?.catch(() => {});
    // On every exit (done, interrupted, NaN): the weights live on disk from here on.
    state.params.dispose();
    state.optimizer.dispose();
    state.average?.dispose();
  }
  const { modelDir, metrics } = await _finish(run, state);
  return { ..._result(state, run.t0, false), modelDir, metrics };
}

/**
 * The training set behind a {@link MemoryCache} when it fits in `memoryMB` (each image is then
 * rendered or decoded once per run rather than once per epoch), else as it is; says which.
 */
function _inMemory(data: Dataset, memoryMB: number, log: (line: string) => void): Dataset {
  if (memoryMB <= 0 || data instanceof MemoryCache) return data;
  const mib = memoryCacheBytes(data) / 2 ** 20;
  if (mib > memoryMB) {
    log(
      `training images: not kept in memory (${
        mib.toFixed(0)
      } MiB > --data.memoryMB ${memoryMB}); ` +
        `each epoch renders or reads them again`,
    );
    return data;
  }
  log(`training images: kept in memory after first use (${mib.toFixed(0)} MiB, uint8)`);
  return new MemoryCache(data);
}

/**
 * The steps of the current stage, from `state.step` to the stage's end (or a stop).
 *
 * @returns `done` at the end of the stage, `interrupted` after Ctrl-C or `stopAfter`
 */
async function _runStage(run: _Run, state: RunState): Promise<"done" | "interrupted"> {
  const { cfg, opts, log } = run;
  const stage = state.stage as Stage;
  const total = run.steps[stage];
  const s = cfg[stage];
  const micro = s.microBatch > 0 ? s.microBatch : s.batch;
  const emotion = methodPlan(cfg).emotion;
  const order = epochOrders(opts.train, {
    balance: cfg.data.balance,
    seed: cfg.seed,
    stream: STAGE_ID[stage],
  });
  // One step ahead: step k + 1's images are requested before step k trains.
  const load = (k: number) => {
    const indices = batchIndices(opts.train.length, s.batch, k, order);
    const batch = opts.train.batch(indices);
    batch.catch(() => {}); // awaited below; unawaited only when the run stops early
    return { step: k, indices, batch };
  };
  let ahead: { step: number; indices: number[]; batch: Promise<Batch> } | undefined;
  let interval = { images: 0, seconds: 0, n: 0, sums: {} as Record<string, number> };
  if (state.step === 0) {
    log(
      `${stage}: ${total} steps of ${s.batch} images (micro-batch ${micro}), ${s.optimizer} lr ${s.lr}, ` +
        `${state.params.count()} parameters, method ${cfg.method}, backend ${opts.backend}` +
        (state.average
          ? `; validated and saved: the weights' moving average (decay ${cfg.finetune.emaDecay})`
          : ""),
    );
  }
  while (state.step < total) {
    const step = state.step;
    // -- learning rate -----------------------------------------------------------------------
    const lr = learningRate(step, total, {
      base: s.lr,
      warmup: s.warmupSteps,
      schedule: s.schedule,
    });

    // -- evaluate and checkpoint (before the step, so the state on disk is always "good") ----
    if (
      step > 0 && cfg.checkpointEvery > 0 && step % cfg.checkpointEvery === 0 &&
      run.stepsThisCall > 0
    ) {
      await saveCheckpoint(run.ckptDir, state, cfg);
    }
    if (
      stage === "finetune" && step > 0 && _isEvalStep(step, cfg, opts.train.length) &&
      !state.evals.some((e) => e.step === step)
    ) {
      await _validate(run, state, step);
    }

    // -- forward / backward over micro-batches, then one update -------------------------------
    const tStep = performance.now();
    const current = ahead?.step === step ? ahead : load(step);
    ahead = step + 1 < total ? load(step + 1) : undefined;
    run.inFlight = ahead?.batch;
    const inputs: StepInputs = {
      cfg,
      data: opts.train,
      indices: current.indices,
      batch: await current.batch,
      micro,
      step,
      lr,
      classWeights: run.classWeights,
    };
    const terms = stage === "pretrain"
      ? await pretrainStep(state.params, state.optimizer, { ...inputs, total, emotion })
      : await finetuneStep(state.params, state.optimizer, inputs);
    if (state.average) {
      updateAverage(state.average, state.params, averageDecayAt(step, cfg.finetune.emaDecay));
    }
    state.step++;
    run.stepsThisCall++;

    // -- log -----------------------------------------------------------------------------------
    interval.images += s.batch;
    interval.seconds += (performance.now() - tStep) / 1000;
    interval.n++;
    for (const [k, v] of Object.entries(terms)) interval.sums[k] = (interval.sums[k] ?? 0) + v;
    if (state.step % cfg.logEvery === 0 || state.step === total) {
      const mean = Object.fromEntries(
        Object.entries(interval.sums).map(([k, v]) => [k, v / interval.n]),
      );
      const ips = interval.images / interval.seconds;
      state.losses.push({ stage, step: state.step, losses: mean, lr, imagesPerSecond: ips });
      log(
        _logLine(stage, state.step, total, {
          mean,
          lr,
          ips,
          batch: s.batch,
          backend: opts.backend,
        }),
      );
      interval = { images: 0, seconds: 0, n: 0, sums: {} };
    }

    // -- stop ----------------------------------------------------------------------------------
    if (
      run.stopRequested || (opts.stopAfter !== undefined && run.stepsThisCall >= opts.stopAfter)
    ) {
      return "interrupted";
    }
  }
  return "done";
}

/**
 * One fixed-format progress line:
 * `finetune step  40/625 | loss 1.2345 | lr 3.00e-4 | 301.2 img/s | ETA 2m04s | wasm`
 * (pretraining adds its terms after the loss).
 */
function _logLine(
  stage: Stage,
  step: number,
  total: number,
  o: { mean: Record<string, number>; lr: number; ips: number; batch: number; backend: string },
): string {
  const terms = Object.entries(o.mean).filter(([k]) => k !== "loss");
  const parts = terms.length > 1
    ? ` (${terms.map(([k, v]) => `${k} ${v.toFixed(4)}`).join(" ")})`
    : "";
  const eta = ((total - step) * o.batch) / o.ips;
  return `${stage} step ${String(step).padStart(String(total).length)}/${total} | loss ${
    o.mean.loss.toFixed(4)
  }${parts} | lr ${o.lr.toPrecision(3)} | ${o.ips.toFixed(1)} img/s | ETA ${
    _fmtTime(eta)
  } | ${o.backend}`;
}

function _fmtTime(s: number): string {
  if (!Number.isFinite(s)) return "?";
  const m = Math.floor(s / 60);
  return m >= 60
    ? `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`
    : `${m}m${String(Math.round(s % 60)).padStart(2, "0")}s`;
}

function _isEvalStep(step: number, cfg: Config, n: number): boolean {
  const every = cfg.finetune.evalEvery > 0
    ? cfg.finetune.evalEvery
    : Math.max(1, Math.round(n / cfg.finetune.batch));
  return step % every === 0;
}

/** Validates the classifier, records it, and saves it to `best/` when it improves. */
async function _validate(run: _Run, state: RunState, step: number): Promise<void> {
  const { cfg, opts } = run;
  const p = state.average ?? state.params;
  const m = await evaluateDataset(
    (x) => classifierForward(p, x, { arch: cfg.arch, ctx: { train: false } }),
    opts.val,
    { arch: cfg.arch },
  );
  state.evals.push({ stage: "finetune", step, macroF1: m.macroF1, accuracy: m.accuracy });
  const better = m.macroF1 > state.best.macroF1;
  run.log(
    `validate finetune step ${step}: macro F1 ${m.macroF1.toFixed(4)} accuracy ${
      m.accuracy.toFixed(4)
    } on ${opts.val.name}${better ? " (best so far, saved)" : ""}`,
  );
  if (!better) return;
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
      trainSeconds: (performance.now() - run.t0) / 1000,
    },
  });
}

/**
 * The end of a finished run: the best fine-tuned weights become `model/` (without fine-tuning
 * there is none), then the report and `metrics.json`.
 */
async function _finish(
  run: _Run,
  state: RunState,
): Promise<{ modelDir?: string; metrics?: Metrics }> {
  const { cfg, opts, log } = run;
  const modelDir = `${opts.outDir}/model`;
  let metrics: Metrics | undefined;
  if (await exists(`${opts.outDir}/best/model.json`)) {
    const best = await readTensors(`${opts.outDir}/best`);
    for (const t of best.tensors.values()) t.dispose();
    metrics = best.metadata.metrics as unknown as Metrics;
    await Deno.remove(modelDir, { recursive: true }).catch(() => {});
    await Deno.rename(`${opts.outDir}/best`, modelDir);
  }
  await _writeReport(opts.outDir, state, cfg, opts.backend, metrics);
  if (!metrics) return {};
  await writeFileAtomic(`${opts.outDir}/metrics.json`, JSON.stringify(metrics, null, 1) + "\n");
  log(
    `best validation macro F1 ${
      metrics.macroF1.toFixed(4)
    } (fine-tune step ${state.best.step}); model in ${modelDir}`,
  );
  log(formatMetrics(metrics));
  return { modelDir, metrics };
}

function _result(state: RunState, t0: number, interrupted: boolean): TrainResult {
  return {
    interrupted,
    losses: state.losses,
    evals: state.evals,
    seconds: (performance.now() - t0) / 1000,
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
