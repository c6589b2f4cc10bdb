/**
 * The trained emotion classifier as a loadable object: `await load(pathOrUrl)` returns an
 * {@link EmotionModel} that classifies batches of images.
 *
 * @module
 */
import { tf } from "../deps.ts";
import type { ArchConfig } from "../config.ts";
import { type Emotion, EMOTIONS, NUM_CLASSES } from "../emotions.ts";
import type { Batch, Dataset } from "../data/dataset.ts";
import { evaluateDataset, predictDataset, type Predictions } from "../eval/evaluate.ts";
import { DEFAULT_TTA, type Tta, ttaProbabilities } from "../eval/tta.ts";
import type { Metrics } from "../eval/metrics.ts";
import { ensembleLogits } from "./ensemble.ts";
import { loadModelParams, type ModelMetadata } from "./io.ts";
import { Params } from "./params.ts";
import type { Tensor2D, Tensor4D } from "../tensors.ts";

/** The classifier's reading of one image. */
export interface Classification {
  /** The most probable class. */
  class: Emotion;
  /** Its index in {@link EMOTIONS}. */
  index: number;
  /** The six softmax probabilities, by class. */
  probabilities: Record<Emotion, number>;
}

/** A loaded classifier. */
export interface EmotionModel {
  /** Encoder architecture (input size included). */
  readonly arch: ArchConfig;
  /** Config, method, backend, seed, metrics and version it was saved with. */
  readonly metadata: ModelMetadata;
  /** The weights (`encoder.*`, `head.*`) of its first (for a single network: its only) network. */
  readonly params: Params;
  /**
   * The weights of every network: one for a single network, several for an ensemble, whose
   * probabilities are the mean of its networks' (see `src/model/ensemble.ts`).
   */
  readonly members: readonly Params[];
  /**
   * Class probabilities of a batch.
   *
   * @param images `[B, S, S, 3]` float32 RGB in [0, 1], any S (resized)
   * @param opts `tta`: test-time augmentation (see `src/eval/tta.ts`) @default DEFAULT_TTA
   * @returns `[B, 6]` softmax probabilities in {@link EMOTIONS} order
   */
  probabilities(images: Tensor4D, opts?: { tta?: Tta }): Tensor2D;
  /**
   * Classifies a batch (one asynchronous read, so it works on every backend).
   *
   * @param images `[B, S, S, 3]` float32 RGB in [0, 1], any S: a tensor (not disposed) or the
   *   pixels of a {@link Batch}
   * @param opts `tta` @default DEFAULT_TTA
   * @returns one {@link Classification} per image
   */
  classify(
    images: Tensor4D | Pick<Batch, "images" | "n" | "size">,
    opts?: { tta?: Tta },
  ): Promise<Classification[]>;
  /** Predicts every image of a dataset (`tta` @default DEFAULT_TTA). */
  predictDataset(data: Dataset, opts?: { batch?: number; tta?: Tta }): Promise<Predictions>;
  /** Scores the model on a labelled dataset (`tta` @default DEFAULT_TTA). */
  evaluate(data: Dataset, opts?: { batch?: number; tta?: Tta }): Promise<Metrics>;
  /** Frees the weights. */
  dispose(): void;
}

/**
 * Wraps a classifier record, or the records of an ensemble's networks.
 *
 * @param params `encoder.*` + `head.*`, or one such record per network of one architecture
 * @param arch encoder architecture
 * @returns the model (owns the records)
 */
export function classifierModel(
  params: Params | readonly Params[],
  arch: ArchConfig,
  metadata: ModelMetadata,
): EmotionModel {
  const members = params instanceof Params ? [params] : [...params];
  if (members.length === 0) throw new Error("classifierModel: no network");
  const logits = ensembleLogits(members, arch);
  const probabilities = (images: Tensor4D, opts: { tta?: Tta } = {}) =>
    ttaProbabilities(logits, images, arch, opts.tta ?? DEFAULT_TTA);
  return {
    arch,
    metadata,
    params: members[0],
    members,
    probabilities,
    classify: async (images, opts = {}) => {
      const probs = images instanceof tf.Tensor
        ? probabilities(images, opts)
        : tf.tidy(() =>
          probabilities(tf.tensor4d(images.images, [images.n, images.size, images.size, 3]), opts)
        ); // [B, 6]
      const p = await probs.data();
      const n = probs.shape[0];
      probs.dispose();
      return Array.from({ length: n }, (_, i) => {
        const row = p.subarray(i * NUM_CLASSES, (i + 1) * NUM_CLASSES);
        let best = 0;
        for (let c = 1; c < NUM_CLASSES; c++) if (row[c] > row[best]) best = c;
        return {
          class: EMOTIONS[best],
          index: best,
          probabilities: Object.fromEntries(EMOTIONS.map((e, c) => [e, row[c]])) as Record<
            Emotion,
            number
          >,
        };
      });
    },
    predictDataset: (data, opts = {}) =>
      predictDataset(logits, data, { arch, ...opts, tta: opts.tta ?? DEFAULT_TTA }),
    evaluate: (data, opts = {}) =>
      evaluateDataset(logits, data, { arch, ...opts, tta: opts.tta ?? DEFAULT_TTA }),
    dispose: () => members.forEach((p) => p.dispose()),
  };
}

/**
 * Loads a saved classifier from a directory or an http(s) URL.
 *
 * @param pathOrUrl e.g. `models/byel-quick` or `https://example.org/byel-quick/`
 * @returns the model
 * @example
 * ```ts
 * const model = await load("models/byel-quick");
 * const probs = model.probabilities(images); // [B, 6]
 * ```
 */
export async function load(pathOrUrl: string): Promise<EmotionModel> {
  const { members, arch, metadata } = await loadModelParams(pathOrUrl);
  return classifierModel(members, arch, metadata);
}
