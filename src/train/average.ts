/**
 * A moving average of a network's weights (Polyak averaging, as timm's `ModelEma`): after
 * every supervised step, `avg = d * avg + (1 - d) * params` for every variable, BatchNorm's
 * running statistics included, so the averaged network can run in inference mode as it is.
 * The decay warms up as `min(d, t / (t + 1))` at update `t`: the average is the plain mean of
 * the weights seen so far until that passes `d`, so the start (a fresh network's weights,
 * soon left behind) does not linger in it. (timm's warm-up, `(1 + t) / (10 + t)`, is made for
 * runs of tens of thousands of steps: over the ~800 of `quick` it would cap any decay at
 * ~0.989, an average of the last ~90 steps, where the one-cycle rate is near zero.)
 *
 * Averaging weights along one run is a cheap stand-in for an ensemble of the models it passes
 * through (SWA, SWAD); it does not change the run itself: the steps, their random draws and
 * the last weights are the same with it as without. BatchNorm's running statistics are moving
 * averages too: {@link applyBnUpdates} folds each step's batch statistics into them.
 *
 * @module
 */
import { tf } from "../deps.ts";
import { BN_MOMENTUM, type BnUpdate } from "../model/layers.ts";
import { Params } from "../model/params.ts";
import type { Tensor, Variable } from "../tensors.ts";
import { wasmOptimAvailable } from "../backend/kernels/wasm_optim.ts";

/**
 * The decay applied at update `t` (0-based).
 *
 * @param t updates done before this one @param decay the configured decay in [0, 1)
 * @returns `min(decay, t / (t + 1))`
 */
export function averageDecayAt(t: number, decay: number): number {
  return Math.min(decay, t / (t + 1));
}

/**
 * A new average that starts at the current weights.
 *
 * @param p the network
 * @returns a record with the same names, each a copy (caller disposes)
 */
export function startAverage(p: Params): Params {
  const avg = new Params();
  for (const [name, v] of p.vars) avg.add(name, tf.clone(v));
  return avg;
}

/**
 * One step of an exponential moving average: `a = d * a + (1 - d) * b` (also BYOL's target
 * update, `updateTarget`).
 *
 * @param a the averaged variable (changed in place) @param b the value it moves toward, same
 * shape @param decay d in [0, 1]
 */
export function moveToward(a: Variable, b: Tensor, decay: number): void {
  tf.tidy(() => {
    if (wasmOptimAvailable(a)) {
      // One kernel, the same float32 operations (kernels/wasm_optim.ts).
      a.assign(tf.engine().runKernel("ByelLerp", { a, b }, { decay }) as Tensor);
    } else a.assign(tf.add(tf.mul(a, decay), tf.mul(b, 1 - decay)));
  });
}

/**
 * Moves every variable of `avg` toward `p`: `avg = d * avg + (1 - d) * p`.
 *
 * @param avg the average (changed in place) @param p the network, with the same names
 * @param decay d in [0, 1]
 */
export function updateAverage(avg: Params, p: Params, decay: number): void {
  for (const [name, a] of avg.vars) moveToward(a, p.get(name), decay);
}

/**
 * Folds batch statistics into BatchNorm's running averages (PyTorch momentum 0.1,
 * `r = 0.9 r + 0.1 s`) by {@link moveToward}, one kernel per statistic on WASM, and disposes
 * them. The same float32 operations as `tf.add(tf.mul(r, 0.9), tf.mul(s, 0.1))`, whose three
 * kernels and two scalar uploads per statistic cost 0.72 ms against 0.14 for 24 layers'
 * statistics (side by side, WASM).
 *
 * @param p record @param updates from a training forward pass (emptied)
 */
export function applyBnUpdates(p: Params, updates: BnUpdate[]): void {
  for (const u of updates) {
    moveToward(p.get(`${u.name}.mean`), u.mean, 1 - BN_MOMENTUM);
    moveToward(p.get(`${u.name}.var`), u.variance, 1 - BN_MOMENTUM);
    u.mean.dispose();
    u.variance.dispose();
  }
  updates.length = 0;
}
