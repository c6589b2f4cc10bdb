/**
 * byel: BYEL (Bootstrap Your Emotion Latent) facial emotion recognition for Deno on
 * TensorFlow.js, trained only on the synthetic faces it renders itself, on WebGPU, threaded-SIMD
 * WebAssembly or the CPU. Import it from this repository or from any URL that serves it.
 *
 * @example Classify faces with the shipped model
 * ```ts
 * import { EMOTIONS, load, selectBackend, SyntheticFaces, tf } from "./mod.ts";
 *
 * const backend = await selectBackend(); // WebGPU, else threaded-SIMD WASM, else CPU
 * console.log(backend.name, backend.skipped);
 * const model = await load("models/byel-quick"); // a path or an http(s) URL
 * const faces = new SyntheticFaces({ domain: "real", seed: 7, size: 64, length: 60 });
 * const batch = await faces.batch([0, 1, 2, 3, 4, 5]); // [6, 64, 64, 3] float32 in [0, 1]
 * const x = tf.tensor4d(batch.images, [batch.n, batch.size, batch.size, 3]);
 * const probs = model.probabilities(x); // [6, 6], EMOTIONS order
 * const best = (await tf.argMax(probs, 1).data()) as Int32Array;
 * console.log(Array.from(best, (c) => EMOTIONS[c]));
 * console.log((await model.evaluate(faces)).macroF1);
 * ```
 *
 * @example Train BYEL on the embedded faces
 * ```ts
 * import { openRunData, resolveConfig, selectBackend, train } from "./mod.ts";
 *
 * const backend = await selectBackend();
 * const config = resolveConfig("smoke", { method: "byel" }); // any setting, as on the CLI
 * const { train: images, val } = await openRunData(config); // the embedded synthetic faces
 * const result = await train({ config, train: images, val, outDir: "runs/example", backend: backend.name });
 * console.log(result.metrics?.macroF1, result.modelDir);
 * ```
 *
 * @module
 */

// The six classes, in LSD order, and the one folder-name alias table.
export { classIndex, type Emotion, EMOTIONS, NUM_CLASSES } from "./src/emotions.ts";
export { UserError } from "./src/errors.ts";
export { VERSION } from "./src/version.ts";
export { hash32, Rng, STREAM } from "./src/rng.ts";
/** The TensorFlow.js core namespace this library runs on (tfjs-core 4.22, with its backends). */
export { tf } from "./src/deps.ts";

// Engine: backend choice, the WASM Winograd switch and the WASM memory guard.
export {
  type BackendInfo,
  type BackendName,
  type BackendRequest,
  BACKENDS,
  describeBackend,
  selectBackend,
  type SelectOptions,
} from "./src/backend/select.ts";
export { type AdapterSummary } from "./src/backend/webgpu.ts";
export { batchNormTrain } from "./src/backend/batch_norm.ts";
export { setWinograd, winogradAvailable } from "./src/backend/kernels/winograd.ts";
export {
  checkRunMemory,
  estimateStepBytes,
  maxMicroBatch,
  type StepMemoryOptions,
  WASM_HEAP_BYTES,
} from "./src/backend/memory.ts";

// Data: the one Dataset interface, the synthetic faces, real image folders and caches.
export type { Batch, Dataset } from "./src/data/dataset.ts";
export {
  contactSheet,
  type ContactSheetOptions,
  type DomainName,
  DOMAINS,
  encodePng,
  renderFace,
  SyntheticFaces,
  type SyntheticFacesOptions,
} from "./src/data/synth/mod.ts";
export { DecodeError, decodeImage, decodeImageFile, type RgbImage } from "./src/data/decode.ts";
export { resizeSquare } from "./src/data/resize.ts";
export {
  ImageFolderDataset,
  type ImageFolderOptions,
  type LsdSplit,
  readImageFolder,
  readLsd,
} from "./src/data/folders.ts";
export { type ImageDataset, openImages, type OpenImagesOptions } from "./src/data/open.ts";
export {
  CacheDataset,
  openCache,
  prepareCache,
  type PrepareOptions,
  type PrepareResult,
} from "./src/data/cache.ts";
export { batchesOf, DecodePool, prefetch } from "./src/data/prefetch.ts";
export {
  balancedOrder,
  batchIndices,
  classCounts,
  classWeights,
  epochOrder,
  epochOrders,
  formatClassDistribution,
} from "./src/data/sampler.ts";
export {
  type Classifier,
  predictLsdTest,
  readTestList,
  writeLsdSubmission,
  writeSubmission,
} from "./src/data/submission.ts";
export { augmentBatch, type AugmentParams, drawAugmentParams } from "./src/data/augment.ts";

// Configuration: one typed record, presets, validation.
export {
  type ArchConfig,
  type AugmentConfig,
  type Balance,
  BALANCE_MODES,
  type Config,
  type DataConfig,
  type FinetuneConfig,
  type Method,
  METHODS,
  type OptimizerName,
  PAPER,
  type PresetName,
  PRESETS,
  type PretrainConfig,
  QUICK,
  resolveConfig,
  SMOKE,
  validateConfig,
} from "./src/config.ts";

// The method: pure losses and updates, optimisers, schedules, and the one training loop.
export {
  byolLoss,
  crossEntropy,
  emaDecayAt,
  emotionVector,
  type LossTerms,
  orthLoss,
  pretrainLoss,
  type PretrainLossWeights,
  subtractEmotion,
  updateTarget,
  weightedTotal,
} from "./src/train/byel.ts";
export { Lars } from "./src/train/lars.ts";
export { Adam, type Optimizer, Sgd } from "./src/train/optimizers.ts";
export { learningRate } from "./src/train/schedules.ts";
export { openRunData } from "./src/train/data.ts";
export {
  NonFiniteLossError,
  train,
  type TrainOptions,
  type TrainResult,
} from "./src/train/loop.ts";
export { finetuneStep, pretrainStep, type StepInputs } from "./src/train/step.ts";
export { type MethodPlan, methodPlan, planSteps, type Stage } from "./src/train/methods.ts";

// Models: networks, save/load, the loaded classifier.
export { classifierModel, type EmotionModel, load } from "./src/model/classifier.ts";
export { loadModelParams, type ModelMetadata, saveModel } from "./src/model/io.ts";
export { Params } from "./src/model/params.ts";
export { featureDim, resnetForward, resnetInit } from "./src/model/resnet.ts";
export { emotionClassifier, orthogonalMatrix } from "./src/model/heads.ts";
export { initPretrainNets, NET, onlineForward, targetForward } from "./src/model/networks.ts";

// Evaluation: the challenge metric and reports.
export {
  computeMetrics,
  confusionMatrix,
  formatMetrics,
  type Metrics,
} from "./src/eval/metrics.ts";
export { evaluateDataset, predictDataset } from "./src/eval/evaluate.ts";
export { renderReport } from "./src/eval/report.ts";
