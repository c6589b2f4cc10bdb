/**
 * Running a network over a dataset: class probabilities in batches (evaluation mode), and the
 * metrics against the dataset's labels.
 *
 * @module
 */
import { tf } from "../deps.ts";
import type { Dataset } from "../data/dataset.ts";
import type { ArchConfig } from "../config.ts";
import { NUM_CLASSES } from "../emotions.ts";
import { computeMetrics, type Metrics } from "./metrics.ts";
import { type LogitsFn, type Tta, ttaProbabilities } from "./tta.ts";

export type { LogitsFn };

/** Predictions over a dataset. */
export interface Predictions {
  /** `[n, 6]` softmax probabilities, row-major. */
  probabilities: Float32Array;
  /** `[n]` argmax classes. */
  classes: Int32Array;
  /** `[n]` the dataset's labels (-1 unknown). */
  labels: Int32Array;
}

/**
 * Predicts every image of `data`.
 *
 * @param logits the network (evaluation mode)
 * @param data images of any size (resized to `inputSize`)
 * @param opts `arch` (input size and normalisation), `batch` @default 64, `tta` (test-time
 *   augmentation) @default "none" here (training's validation); the model's methods default to
 *   `DEFAULT_TTA`
 * @returns probabilities, classes and labels
 */
export async function predictDataset(
  logits: LogitsFn,
  data: Dataset,
  opts: { arch: Pick<ArchConfig, "inputSize" | "inputNorm">; batch?: number; tta?: Tta },
): Promise<Predictions> {
  const bs = opts.batch ?? 64;
  const n = data.length;
  const probabilities = new Float32Array(n * NUM_CLASSES);
  const classes = new Int32Array(n);
  const labels = new Int32Array(n);
  for (let start = 0; start < n; start += bs) {
    const idx = Array.from({ length: Math.min(bs, n - start) }, (_, i) => start + i);
    const b = await data.batch(idx);
    const probs = tf.tidy(() =>
      ttaProbabilities(
        logits,
        tf.tensor4d(b.images, [b.n, b.size, b.size, 3]),
        opts.arch,
        opts.tta ?? "none",
      )
    ); // [B, 6]
    const p = (await probs.data()) as Float32Array;
    probs.dispose();
    probabilities.set(p, start * NUM_CLASSES);
    for (let i = 0; i < b.n; i++) {
      let best = 0;
      for (let c = 1; c < NUM_CLASSES; c++) {
        if (p[i * NUM_CLASSES + c] > p[i * NUM_CLASSES + best]) best = c;
      }
      classes[start + i] = best;
      labels[start + i] = b.labels[i];
    }
  }
  return { probabilities, classes, labels };
}

/**
 * Scores a network on a labelled dataset.
 *
 * @param logits the network (evaluation mode) @param data labelled images
 * @param opts as for {@link predictDataset}
 * @returns macro F1, accuracy, per-class scores, confusion, n
 * @example
 * ```ts
 * const model = await load("models/byel-quick");
 * const photos = await openImages("photos/", { size: model.arch.inputSize });
 * const m = await evaluateDataset(
 *   (x) => classifierForward(model.params, x, { arch: model.arch, ctx: { train: false } }),
 *   photos,
 *   { arch: model.arch },
 * ); // the same as model.evaluate(photos, { tta: "none" })
 * console.log(m.macroF1);
 * ```
 */
export async function evaluateDataset(
  logits: LogitsFn,
  data: Dataset,
  opts: { arch: Pick<ArchConfig, "inputSize" | "inputNorm">; batch?: number; tta?: Tta },
): Promise<Metrics> {
  const p = await predictDataset(logits, data, opts);
  return computeMetrics(p.labels, p.classes);
}
