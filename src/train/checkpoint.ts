/**
 * The state of a run and its checkpoint: the current stage and step, that stage's networks and
 * optimizer, the loss and validation history and the best validation score. Every random draw
 * of a run is keyed by (seed, stage, step), so this is all a resumed run needs to continue with
 * exactly the numbers an uninterrupted run would have drawn.
 *
 * @module
 */
import { tf } from "../deps.ts";
import type { Config, OptimizerName } from "../config.ts";
import { UserError } from "../errors.ts";
import type { EvalRow, LossRow } from "../eval/report.ts";
import { readTensors, writeTensors } from "../model/io.ts";
import { initClassifier, initPretrainNets } from "../model/networks.ts";
import { Params } from "../model/params.ts";
import { VERSION } from "../version.ts";
import { startAverage } from "./average.ts";
import { Lars } from "./lars.ts";
import { methodPlan, type Stage } from "./methods.ts";
import { Adam, type Optimizer, Sgd } from "./optimizers.ts";
import type { Tensor } from "../tensors.ts";

/** Everything that changes during a run (and is saved in a checkpoint). */
export interface RunState {
  stage: Stage | "done";
  /** Steps completed in the current stage. */
  step: number;
  /** The current stage's networks. */
  params: Params;
  optimizer: Optimizer;
  /**
   * The moving average of the classifier's weights (`finetune.emaDecay` > 0, fine-tuning
   * only): what validation reads and the saved model holds.
   */
  average?: Params;
  losses: LossRow[];
  evals: EvalRow[];
  /** The best validation macro F1 so far and the fine-tuning step it was measured at. */
  best: { macroF1: number; step: number };
}

/**
 * The optimizer a stage's config names.
 *
 * @param kind optimizer name @param s the stage's settings (weight decay, momentum, trust)
 * @returns a new optimizer with empty state
 */
export function makeOptimizer(
  kind: OptimizerName,
  s: Config["pretrain"] | Config["finetune"],
): Optimizer {
  const opts = {
    weightDecay: s.weightDecay,
    momentum: s.momentum,
    trust: "trust" in s ? s.trust : 0.001,
  };
  switch (kind) {
    case "lars":
      return new Lars(opts);
    case "adam":
      return new Adam(opts);
    case "sgd":
      return new Sgd(opts);
  }
}

/** @returns the networks a stage starts from: fresh, or (fine-tuning) the pretrained encoder */
function _stageNets(cfg: Config, stage: Stage, pretrained?: Params): Params {
  return stage === "pretrain"
    ? initPretrainNets(cfg, { emotion: methodPlan(cfg).emotion })
    : initClassifier(cfg, pretrained);
}

/**
 * The state at the start of a run.
 *
 * @param cfg run config @param stage the method's first stage
 * @returns step 0 of `stage`, with fresh networks and optimizer
 */
export function freshState(cfg: Config, stage: Stage): RunState {
  const params = _stageNets(cfg, stage);
  return {
    stage,
    step: 0,
    params,
    optimizer: makeOptimizer(cfg[stage].optimizer, cfg[stage]),
    average: _averageFor(cfg, stage, params),
    losses: [],
    evals: [],
    best: { macroF1: -1, step: -1 },
  };
}

/** @returns a fresh average of `params` when `stage` is fine-tuning and averaging is on */
function _averageFor(cfg: Config, stage: Stage, params: Params): Params | undefined {
  return stage === "finetune" && cfg.finetune.emaDecay > 0 ? startAverage(params) : undefined;
}

/**
 * Moves a finished stage on to the next one (or to `done`): fine-tuning starts from a copy of
 * the pretrained online encoder and a fresh optimizer; the pretraining networks are freed.
 *
 * @param state the run, at the end of its current stage (changed in place)
 * @param cfg run config
 */
export function advanceStage(state: RunState, cfg: Config): void {
  const stages = methodPlan(cfg).stages;
  const at = stages.indexOf(state.stage as Stage) + 1;
  const next: Stage | "done" = at < stages.length ? stages[at] : "done";
  if (next !== "done") {
    const nets = _stageNets(cfg, next, state.params);
    state.params.dispose();
    state.optimizer.dispose();
    state.average?.dispose();
    state.params = nets;
    state.optimizer = makeOptimizer(cfg[next].optimizer, cfg[next]);
    state.average = _averageFor(cfg, next, nets);
  }
  state.stage = next;
  state.step = 0;
}

/**
 * Writes the run state to `dir` (replaced atomically).
 *
 * @param dir checkpoint directory @param state the run @param cfg its config (saved with it)
 */
export async function saveCheckpoint(dir: string, state: RunState, cfg: Config): Promise<void> {
  const tensors = new Map<string, Tensor>();
  for (const [n, v] of state.params.vars) tensors.set(`params/${n}`, v);
  for (const [n, v] of state.optimizer.state) tensors.set(`optimizer/${n}`, v);
  for (const [n, v] of state.average?.vars ?? []) tensors.set(`average/${n}`, v);
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

/**
 * Reads a checkpoint written by {@link saveCheckpoint} with the same config.
 *
 * @param dir checkpoint directory @param cfg the config of the run being resumed
 * @returns the run state (caller disposes its params and optimizer)
 * @throws UserError when `dir` is not a checkpoint or was made with another config
 */
export async function loadCheckpoint(dir: string, cfg: Config): Promise<RunState> {
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
  const s = stage === "done" ? cfg.finetune : cfg[stage];
  const params = new Params();
  const optimizer = makeOptimizer(s.optimizer, s);
  let average: Params | undefined;
  for (const [n, t] of tensors) {
    if (n.startsWith("params/")) params.add(n.slice(7), t);
    else if (n.startsWith("average/")) (average ??= new Params()).add(n.slice(8), t);
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
    average,
    losses: metadata.losses as unknown as LossRow[],
    evals: metadata.evals as unknown as EvalRow[],
    best: metadata.best as { macroF1: number; step: number },
  };
}
