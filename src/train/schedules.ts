/**
 * Learning-rate schedules as pure functions of the step.
 *
 * @module
 */

/**
 * Linear warm-up from 0 to `base` over `warmup` steps, then constant or cosine decay to 0 at
 * `total`.
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
  opts: { base: number; warmup: number; schedule: "constant" | "cosine" },
): number {
  const { base, warmup, schedule } = opts;
  if (step < warmup) return base * (step + 1) / warmup;
  if (schedule === "constant") return base;
  const span = Math.max(1, total - warmup);
  const t = Math.min(1, (step - warmup) / span);
  return base * 0.5 * (1 + Math.cos(Math.PI * t));
}
