/**
 * Class imbalance (LSD's training set is 52% sadness, 4% fear): the pieces behind
 * `--balance none|sampler|loss`.
 *
 * - `none`: a seeded shuffle of every image per epoch ({@link shuffledOrder}).
 * - `sampler`: class-balanced epochs ({@link balancedOrder}): each class fills an equal share
 *   of the epoch; small classes repeat, large ones are subsampled afresh each epoch.
 * - `loss`: the plain shuffle, with inverse-frequency {@link classWeights} for the
 *   cross-entropy.
 *
 * Everything is a pure function of `(labels, seed, epoch)`, so a resumed run sees the same
 * order as an uninterrupted one.
 *
 * @module
 */
import { type Balance, BALANCE_MODES } from "../config.ts";
import { EMOTIONS, NUM_CLASSES } from "../emotions.ts";
import { UserError } from "../errors.ts";
import { Rng, STREAM } from "../rng.ts";

/** Anything with labels: a `Dataset`, or a plain array wrapper. */
export interface Labelled {
  /** Number of items. */
  readonly length: number;
  /** The class of an image. */
  label(i: number): number;
}

/**
 * Checks a `--balance` value.
 *
 * @param value the flag's value
 * @returns it, typed
 * @throws {UserError} quoting the value and the allowed ones
 */
export function parseBalance(value: string): Balance {
  if ((BALANCE_MODES as readonly string[]).includes(value)) return value as Balance;
  throw new UserError(`--balance ${value} is not known; use one of ${BALANCE_MODES.join(", ")}`);
}

/**
 * Images per class (unlabelled `-1` images are not counted).
 *
 * @param data a dataset or anything labelled
 * @returns `[6]` counts in `EMOTIONS` order
 */
export function classCounts(data: Labelled): number[] {
  const counts = new Array(NUM_CLASSES).fill(0);
  for (let i = 0; i < data.length; i++) {
    const l = data.label(i);
    if (l >= 0) counts[l]++;
  }
  return counts;
}

/**
 * Inverse-frequency class weights for a weighted cross-entropy, normalised so that the mean
 * weight over the training images is 1 (`sum_c w_c * n_c = N`), which keeps the loss on the
 * same scale as the unweighted one. A class with no image gets weight 0.
 *
 * @param counts `[6]` images per class
 * @returns `[6]` weights: `w_c = N / (K * n_c)` with K the number of present classes
 * @example
 * ```ts
 * classWeights([1, 0, 0, 0, 3, 0]); // [2, 0, 0, 0, 0.6667, 0]
 * ```
 */
export function classWeights(counts: readonly number[]): Float32Array {
  const total = counts.reduce((a, b) => a + b, 0);
  const present = counts.filter((c) => c > 0).length;
  return Float32Array.from(counts, (c) => (c > 0 ? total / (present * c) : 0));
}

/**
 * A seeded permutation of `0..n-1` for one epoch.
 *
 * @param n number of images
 * @param options `seed`, `epoch` (each epoch gets its own order) and `stream` (separates the
 *   orders of a run's stages) @default stream 0
 * @returns the indices
 */
export function shuffledOrder(
  n: number,
  options: { seed: number; epoch: number; stream?: number },
): Int32Array {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  return new Rng(options.seed, STREAM.order, options.stream ?? 0, options.epoch).shuffle(order);
}

/**
 * A class-balanced epoch: `length` indices (default: the dataset's size) in which every present
 * class has an equal share (±1), in a seeded random order. Within a class, images are drawn
 * without replacement from a fresh permutation each epoch, cycling when the class is small.
 *
 * @param data labelled images (`-1` labels are never drawn)
 * @param options `seed`, `epoch`, `stream` @default 0, and `length` @default data.length
 * @returns the indices
 * @throws {UserError} when no image has a label
 */
export function balancedOrder(
  data: Labelled,
  options: { seed: number; epoch: number; stream?: number; length?: number },
): Int32Array {
  const byClass: number[][] = Array.from({ length: NUM_CLASSES }, () => []);
  for (let i = 0; i < data.length; i++) {
    const l = data.label(i);
    if (l >= 0) byClass[l].push(i);
  }
  const present = byClass.map((l, c) => (l.length > 0 ? c : -1)).filter((c) => c >= 0);
  if (present.length === 0) {
    throw new UserError("class-balanced sampling needs labelled images; use --balance none");
  }
  const length = options.length ?? data.length;
  const key = [options.seed, STREAM.balance, options.stream ?? 0, options.epoch];
  // Equal shares, the remainder going to a seeded choice of classes.
  const slots = new Int32Array(length);
  for (let k = 0; k < length; k++) slots[k] = present[k % present.length];
  new Rng(...key, -1).shuffle(slots);
  const perms = byClass.map((list, c) => new Rng(...key, c).shuffle(Int32Array.from(list)));
  const next = new Array(NUM_CLASSES).fill(0);
  const out = new Int32Array(length);
  for (let k = 0; k < length; k++) {
    const c = slots[k], p = perms[c];
    out[k] = p[next[c]++ % p.length];
  }
  return out;
}

/**
 * The epoch order for a `--balance` mode (`sampler` balances; `none` and `loss` shuffle).
 *
 * @param data labelled images
 * @param options `balance`, `seed`, `epoch`, `stream` @default 0
 * @returns the indices for this epoch
 */
export function epochOrder(
  data: Labelled,
  options: { balance: Balance; seed: number; epoch: number; stream?: number },
): Int32Array {
  return options.balance === "sampler"
    ? balancedOrder(data, options)
    : shuffledOrder(data.length, options);
}

/**
 * {@link epochOrder} as a function of the epoch, remembering the last two epochs (a step's
 * batch can straddle an epoch boundary, and the loop asks for every step).
 *
 * @param data labelled images
 * @param options `balance`, `seed`, `stream`
 * @returns epoch -> its indices
 */
export function epochOrders(
  data: Labelled,
  options: { balance: Balance; seed: number; stream?: number },
): (epoch: number) => Int32Array {
  const memo = new Map<number, Int32Array>();
  return (epoch) => {
    let o = memo.get(epoch);
    if (!o) {
      o = epochOrder(data, { ...options, epoch });
      if (memo.size >= 2) memo.delete(memo.keys().next().value!);
      memo.set(epoch, o);
    }
    return o;
  };
}

/**
 * The image indices of training step `step`: the epoch orders laid end to end, step k taking
 * the k-th run of `batch` indices. A pure function of its arguments (given pure epoch orders),
 * so resuming needs no sampler state.
 *
 * @param n images per epoch @param batch images per step @param step 0-based step
 * @param order epoch -> its `n` indices (e.g. {@link epochOrders}, which remembers them)
 * @returns `batch` indices
 * @example
 * ```ts
 * batchIndices(4, 3, 1, () => [3, 2, 1, 0]); // [0, 3, 2]: the last of epoch 0, then epoch 1
 * ```
 */
export function batchIndices(
  n: number,
  batch: number,
  step: number,
  order: (epoch: number) => ArrayLike<number>,
): number[] {
  const out: number[] = [];
  for (let pos = step * batch; out.length < batch; pos++) {
    out.push(order(Math.floor(pos / n))[pos % n]);
  }
  return out;
}

/**
 * The class distribution as a small table for the log before training:
 *
 * ```
 * class distribution of train (277251 images):
 *   anger        18286   6.6%  ###
 *   …
 * ```
 *
 * @param counts `[6]` images per class
 * @param options `title` (e.g. the dataset's name) and `weights` to show a loss-weight column
 * @returns the lines joined by `\n`
 */
export function formatClassDistribution(
  counts: readonly number[],
  options: { title?: string; weights?: ArrayLike<number> } = {},
): string {
  const total = counts.reduce((a, b) => a + b, 0);
  const max = Math.max(1, ...counts);
  const lines = [
    `class distribution${options.title ? ` of ${options.title}` : ""} (${total} images):`,
  ];
  EMOTIONS.forEach((e, c) => {
    const pct = total ? (100 * counts[c]) / total : 0;
    const bar = "#".repeat(Math.round((20 * counts[c]) / max));
    const w = options.weights ? `  weight ${options.weights[c].toFixed(3).padStart(7)}` : "";
    lines.push(
      `  ${e.padEnd(10)} ${String(counts[c]).padStart(8)} ${
        pct.toFixed(1).padStart(5)
      }%${w}  ${bar}`,
    );
  });
  return lines.join("\n");
}
