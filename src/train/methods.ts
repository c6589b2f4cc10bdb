/**
 * What each training method runs: the one place that turns a {@link Method} into stages, their
 * budgets and the parts of the pretraining loss. Every other module asks this one, so a new
 * method is a new `case` here (the compiler checks the `switch` is exhaustive).
 *
 * @module
 */
import type { Config, Method } from "../config.ts";

/** A stage of a run. */
export type Stage = "pretrain" | "finetune";

/** How a method trains. */
export interface MethodPlan {
  /** The stages, in order. */
  stages: Stage[];
  /**
   * Pretraining with the emotion classifier and emotion vector subtraction (BYEL), or without
   * (plain BYOL). Meaningless when there is no pretraining stage.
   */
  emotion: boolean;
  /** Epochs of the supervised stage (the baseline gets the pretraining epochs too). */
  finetuneEpochs: number;
}

/**
 * How a run's method trains: its stages, whether BYEL's classifier and EVS are on, and the
 * supervised stage's epochs.
 *
 * @param cfg the run's config (`method`, `skipFinetune`, epochs)
 * @returns the method's stages, loss parts and budget
 */
export function methodPlan(cfg: Config): MethodPlan {
  const method: Method = cfg.method;
  switch (method) {
    case "byel":
    case "byol":
      return {
        stages: cfg.skipFinetune ? ["pretrain"] : ["pretrain", "finetune"],
        emotion: method === "byel",
        finetuneEpochs: cfg.finetune.epochs,
      };
    case "baseline":
      // The same budget in images seen: supervised for the pretraining + fine-tuning epochs.
      return {
        stages: ["finetune"],
        emotion: false,
        finetuneEpochs: cfg.pretrain.epochs + cfg.finetune.epochs,
      };
    default: {
      const never: never = method;
      throw new Error(`unknown method ${never}`);
    }
  }
}

/** @returns the number of optimizer steps of a stage @param epochs passes @param n images @param batch per step */
export function stageSteps(epochs: number, n: number, batch: number): number {
  return epochs <= 0 ? 0 : Math.max(1, Math.ceil((epochs * n) / batch));
}

/**
 * Steps of each stage for a config and training-set size (0 for a stage the method skips).
 *
 * @param cfg run config @param n training images
 * @returns stage -> steps
 */
export function planSteps(cfg: Config, n: number): Record<Stage, number> {
  const plan = methodPlan(cfg);
  return {
    pretrain: plan.stages.includes("pretrain")
      ? stageSteps(cfg.pretrain.epochs, n, cfg.pretrain.batch)
      : 0,
    finetune: plan.stages.includes("finetune")
      ? stageSteps(plan.finetuneEpochs, n, cfg.finetune.batch)
      : 0,
  };
}

/** A number per stage, keying the stage's random draws (batch order, augmentation). */
export const STAGE_ID: Readonly<Record<Stage, number>> = { pretrain: 0, finetune: 1 };
