/**
 * Opt-in test-time adaptation (`--adapt`): the classifier's BatchNorm running statistics are
 * re-estimated on the unlabelled images about to be scored, so that the network normalises
 * real photos with real photos' statistics instead of the synthetic training faces'. No label
 * is read; the images go through in a seeded random order (never grouped by class), in batches
 * of the usual size, and each layer's mean and variance become the average over all batches
 * (for an ensemble, in each of its networks).
 * It is transductive (it looks at the test images), so it is off by default and every report
 * that uses it says so.
 *
 * @module
 */
import { tf } from "../deps.ts";
import type { Dataset } from "../data/dataset.ts";
import { prepareImages } from "../data/augment.ts";
import type { BnUpdate } from "../model/layers.ts";
import type { EmotionModel } from "../model/classifier.ts";
import { classifierForward } from "../model/networks.ts";
import type { Params } from "../model/params.ts";
import { Rng } from "../rng.ts";
import type { Tensor } from "../tensors.ts";

/** What {@link adaptBatchNorm} did. */
export interface AdaptResult {
  /** Images whose statistics were used. */
  images: number;
  /** BatchNorm layers re-estimated. */
  layers: number;
  /** Puts the statistics the model had before back. */
  restore(): void;
}

/**
 * Replaces the model's BatchNorm running statistics by those of `data` (in place).
 *
 * @param model the classifier to adapt
 * @param data the images to be scored (their labels are not read)
 * @param opts `batch` images per pass @default 64; `seed` of the order @default 0; `maxImages`
 *   @default all
 * @returns how many images and layers were used, and how to undo it
 */
export async function adaptBatchNorm(
  model: EmotionModel,
  data: Dataset,
  opts: { batch?: number; seed?: number; maxImages?: number } = {},
): Promise<AdaptResult> {
  const bs = opts.batch ?? 64;
  const order = new Rng(opts.seed ?? 0, 0xada9).shuffle(
    Array.from({ length: data.length }, (_, i) => i),
  ).slice(0, opts.maxImages ?? data.length);
  const before: [Params, Map<string, Tensor>][] = [];
  let layers = 0;
  for (const params of model.members) {
    const saved = await _adaptOne(params, model, data, order, bs);
    before.push([params, saved]);
    layers += saved.size / 2;
  }
  return {
    images: order.length,
    layers,
    restore: () => {
      for (const [params, saved] of before) {
        for (const [n, t] of saved) params.get(n).assign(t);
        tf.dispose([...saved.values()]);
        saved.clear();
      }
    },
  };
}

/**
 * Re-estimates one network's statistics (an ensemble's networks each see the same images in
 * the same order).
 *
 * @returns the statistics it had before, by variable name
 */
async function _adaptOne(
  params: Params,
  model: EmotionModel,
  data: Dataset,
  order: number[],
  bs: number,
): Promise<Map<string, Tensor>> {
  const sums = new Map<string, { mean: Tensor; variance: Tensor; n: number }>();
  for (let start = 0; start < order.length; start += bs) {
    const idx = order.slice(start, start + bs);
    if (idx.length < 2) break; // one image has no variance
    const b = await data.batch(idx);
    const updates: BnUpdate[] = [];
    tf.tidy(() => {
      const x = prepareImages(
        tf.tensor4d(b.images, [b.n, b.size, b.size, 3]),
        model.arch,
      );
      classifierForward(params, x, {
        arch: model.arch,
        ctx: { train: true, bnUpdates: updates },
      });
    });
    for (const u of updates) {
      const s = sums.get(u.name);
      if (!s) sums.set(u.name, { mean: u.mean, variance: u.variance, n: 1 });
      else {
        const m = tf.add(s.mean, u.mean), v = tf.add(s.variance, u.variance);
        tf.dispose([s.mean, s.variance, u.mean, u.variance]);
        sums.set(u.name, { mean: m, variance: v, n: s.n + 1 });
      }
    }
  }
  const before = new Map<string, Tensor>();
  for (const [name, s] of sums) {
    for (const k of [".mean", ".var"]) before.set(name + k, tf.clone(params.get(name + k)));
    tf.tidy(() => {
      params.get(`${name}.mean`).assign(tf.div(s.mean, s.n));
      params.get(`${name}.var`).assign(tf.div(s.variance, s.n));
    });
    tf.dispose([s.mean, s.variance]);
  }
  return before;
}
