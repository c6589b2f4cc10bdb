/**
 * Test-time augmentation: a face is read as the mean of the classifier's probabilities over a
 * few views of its aligned crop (the crop and its mirror image, each at 100%, 90% and 80% of
 * the crop's side, centred), which steadies a network trained only on synthetic faces against
 * the small framing differences of real photos. Measured on the three `quick` baseline seeds
 * of before the wider zoom (macro F1, `fer2013-public` | `tcce`): one view 0.259 | 0.280, the
 * mirror pair 0.263 | 0.279, the six views 0.271 | 0.293 (every seed gained on both sets); with
 * the wider zoom, 0.275 | 0.293 -> 0.282 | 0.304. It costs six forward passes per face, run as
 * one batch: for the `quick` network on WASM here about 6 ms per face in batches of 64 (1 ms
 * with one view) and 8 ms for a single face (2 ms). It uses nothing but the one image: unlike
 * `--adapt` it is not transductive.
 *
 * @module
 */
import { tf } from "../deps.ts";
import { prepareImages } from "../data/augment.ts";
import type { ArchConfig } from "../config.ts";
import { UserError } from "../errors.ts";
import type { Tensor2D, Tensor4D } from "../tensors.ts";

/** `scales`: the six views below, averaged; `none`: the crop alone. */
export type Tta = "scales" | "none";
/** The test-time augmentation modes. */
export const TTAS: readonly Tta[] = ["scales", "none"];
/** What `predict`, `eval`, `devscore` and an {@link EmotionModel}'s methods use by default. */
export const DEFAULT_TTA: Tta = "scales";
/** The fractions of the crop's side each view keeps (centred), each also mirrored. */
export const TTA_SCALES: readonly number[] = [1, 0.9, 0.8];

/** Maps a normalised batch `[B, S, S, 3]` to logits `[B, 6]`. */
export type LogitsFn = (x: Tensor4D) => Tensor2D;

/**
 * Checks a `--tta` value.
 *
 * @param v the value (undefined: {@link DEFAULT_TTA})
 * @returns the mode
 * @throws UserError naming the allowed values
 */
export function parseTta(v: string | undefined): Tta {
  const t = v ?? DEFAULT_TTA;
  if (!(TTAS as readonly string[]).includes(t)) {
    throw new UserError(`--tta ${t} is not allowed: expected one of ${TTAS.join(", ")}`);
  }
  return t as Tta;
}

/**
 * The views of a batch that `tta` averages over.
 *
 * @param images `[B, S, S, 3]` float32 RGB in [0, 1]
 * @param tta the mode
 * @returns the views, each `[B, S, S, 3]` (the first is `images` itself)
 */
export function ttaViews(images: Tensor4D, tta: Tta): Tensor4D[] {
  if (tta === "none") return [images];
  return tf.tidy(() => {
    const [b, s] = images.shape;
    const idx = tf.range(0, b, 1, "int32") as tf.Tensor1D;
    const views: Tensor4D[] = [];
    for (const keep of TTA_SCALES) {
      const m = (1 - keep) / 2;
      // cropAndResize samples the box's corners at (m, 1 - m) of the (S - 1)-pixel span
      const boxes = tf.tile(tf.tensor2d([[m, m, 1 - m, 1 - m]]), [b, 1]) as tf.Tensor2D;
      const v = keep === 1 ? images : tf.image.cropAndResize(images, boxes, idx, [s, s]);
      // flipLeftRight is tf.reverse(v, 2), the same values: on WASM 9 ms against 71 (128 at 48 px).
      views.push(v, tf.image.flipLeftRight(v) as Tensor4D);
    }
    return views;
  });
}

/**
 * The mean of the softmax probabilities over the views of `tta`.
 *
 * @param logits the network (evaluation mode) on normalised input
 * @param images `[B, S, S, 3]` float32 RGB in [0, 1], any S (each view resized by
 *   `prepareImages`)
 * @param arch input size and normalisation
 * @param tta the mode
 * @returns `[B, 6]` probabilities
 */
export function ttaProbabilities(
  logits: LogitsFn,
  images: Tensor4D,
  arch: Pick<ArchConfig, "inputSize" | "inputNorm">,
  tta: Tta,
): Tensor2D {
  return tf.tidy(() => {
    const views = ttaViews(images, tta);
    if (views.length === 1) return tf.softmax(logits(prepareImages(images, arch))) as Tensor2D;
    // one forward pass over every view ([V * B, S, S, 3]: evaluation mode, so the rows do not
    // interact), which pays the network's per-kernel cost once instead of V times
    const b = images.shape[0];
    const p = tf.softmax(logits(prepareImages(tf.concat(views, 0), arch))); // [V * B, 6]
    return tf.mean(tf.reshape(p, [views.length, b, -1]), 0) as Tensor2D; // [B, 6]
  });
}
