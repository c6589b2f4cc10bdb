/**
 * Learning-rate schedules as pure functions of the step.
 *
 * @module
 */
import type { ScheduleName } from "../config.ts";

/** One-cycle: the warm-up starts at base / this. */
export const ONECYCLE_DIV = 25;
/** One-cycle: the last step ends at base / this. */
export const ONECYCLE_FINAL_DIV = 1e4;
/** One-cycle: the share of the stage spent warming up when `warmup` is 0. */
export const ONECYCLE_PCT = 0.3;

/**
 * The learning rate of a step:
 * - `constant` and `cosine`: linear warm-up from 0 to `base` over `warmup` steps, then constant,
 *   or a cosine decay to 0 at `total`;
 * - `onecycle` (PyTorch's OneCycleLR with its defaults, cosine both ways): from base / 25 up to
 *   `base` over `warmup` steps (30% of the stage when `warmup` is 0), then a cosine down to
 *   base / 1e4 at the last step.
 *
 * @param step 0-based step @param total steps in the stage
 * @returns the learning rate of `step`
 * @example
 * ```ts
 * learningRate(0, 100, { base: 1, warmup: 10, schedule: "cosine" }); // 0.1
 * ```
 */
export function learningRate(
  step: number,
  total: number,
  opts: { base: number; warmup: number; schedule: ScheduleName },
): number {
  const { base, schedule } = opts;
  if (schedule === "onecycle") {
    const up = opts.warmup > 0 ? opts.warmup : Math.max(1, Math.round(ONECYCLE_PCT * total));
    const cos = (from: number, to: number, t: number) =>
      to + (from - to) * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, Math.max(0, t))));
    if (step < up) return cos(base / ONECYCLE_DIV, base, step / up);
    return cos(base, base / ONECYCLE_FINAL_DIV, (step - up) / Math.max(1, total - 1 - up));
  }
  const warmup = opts.warmup;
  if (step < warmup) return base * (step + 1) / warmup;
  if (schedule === "constant") return base;
  const span = Math.max(1, total - warmup);
  const t = Math.min(1, (step - warmup) / span);
  return base * 0.5 * (1 + Math.cos(Math.PI * t));
}
