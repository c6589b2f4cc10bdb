/**
 * The trained emotion classifier as a loadable object: `await load(pathOrUrl)` returns an
 * {@link EmotionModel} that classifies batches of images.
 *
 * @module
 */
import { tf } from "../deps.ts";
import type { ArchConfig } from "../config.ts";
import type { Dataset } from "../data/dataset.ts";
import { prepareImages } from "../data/augment.ts";

import { evaluateDataset, predictDataset, type Predictions } from "../eval/evaluate.ts";
import type { Metrics } from "../eval/metrics.ts";
import { loadModelParams, type ModelMetadata } from "./io.ts";
import { classifierForward } from "./networks.ts";
import type { Params } from "./params.ts";

/** A loaded classifier. */
export interface EmotionModel {
  /** Encoder architecture (input size included). */
  readonly arch: ArchConfig;
  /** Config, method, backend, seed, metrics and version it was saved with. */
  readonly metadata: ModelMetadata;
  /** The weights (`encoder.*`, `head.*`). */
  readonly params: Params;
  /**
   * Class probabilities of a batch.
   *
   * @param images `[B, S, S, 3]` float32 RGB in [0, 1], any S (resized)
   * @returns `[B, 6]` softmax probabilities in {@link EMOTIONS} order
   */
  probabilities(images: tf.Tensor4D): tf.Tensor2D;
  /** Predicts every image of a dataset. */
  predictDataset(data: Dataset, opts?: { batch?: number }): Promise<Predictions>;
  /** Scores the model on a labelled dataset. */
  evaluate(data: Dataset, opts?: { batch?: number }): Promise<Metrics>;
  /** Frees the weights. */
  dispose(): void;
}

/**
 * Wraps a classifier record.
 *
 * @param params `encoder.*` + `head.*` @param arch encoder architecture
 * @returns the model (owns `params`)
 */
export function classifierModel(
  params: Params,
  arch: ArchConfig,
  metadata: ModelMetadata,
): EmotionModel {
  const logits = (x: tf.Tensor4D) => classifierForward(params, x, { arch, ctx: { train: false } });
  return {
    arch,
    metadata,
    params,
    probabilities: (images) =>
      tf.tidy(() => tf.softmax(logits(prepareImages(images, arch.inputSize)))),
    predictDataset: (data, opts = {}) =>
      predictDataset(logits, data, { inputSize: arch.inputSize, ...opts }),
    evaluate: (data, opts = {}) =>
      evaluateDataset(logits, data, { inputSize: arch.inputSize, ...opts }),
    dispose: () => params.dispose(),
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
  const { params, arch, metadata } = await loadModelParams(pathOrUrl);
  return classifierModel(params, arch, metadata);
}
