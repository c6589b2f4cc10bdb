/**
 * byel: BYEL (Bootstrap Your Emotion Latent) facial emotion recognition, trained on synthetic
 * faces, on Deno + TensorFlow.js (WebGPU, threaded-SIMD WASM, or CPU).
 *
 * @module
 */
export { classIndex, type Emotion, EMOTIONS, NUM_CLASSES } from "./src/emotions.ts";
export { UserError } from "./src/errors.ts";
export { VERSION } from "./src/version.ts";
/** The TensorFlow.js core namespace this library runs on (tfjs-core 4.22, with its backends). */
export { tf } from "./src/deps.ts";
export type { Batch, Dataset } from "./src/data/dataset.ts";
export {
  type DecodedFiles,
  DecodeError,
  type DecodeFailure,
  decodeFiles,
  decodeImage,
  decodeImageFile,
  decodeToSquare,
  type FileDecoder,
  type JpegDecoderName,
  loadFastJpeg,
  type RgbImage,
  useJpegDecoder,
} from "./src/data/decode.ts";
export { type ResizeOptions, resizeSquare, type Upscale } from "./src/data/resize.ts";
export {
  type BadFile,
  formatSkipped,
  ImageFolderDataset,
  type ImageFolderOptions,
  LSD_SPLITS,
  type LsdSplit,
  readImageFolder,
  readLsd,
  type SourceFile,
} from "./src/data/folders.ts";
export {
  type ActionUnits,
  type Capture,
  contactSheet,
  type ContactSheetOptions,
  DOMAIN_SPECS,
  type DomainName,
  DOMAINS,
  type DomainSpec,
  encodePng,
  type Identity,
  makeIdentity,
  renderFace,
  sampleCapture,
  sampleExpression,
  SyntheticFaces,
  type SyntheticFacesOptions,
} from "./src/data/synth/mod.ts";
export {
  type BackendInfo,
  type BackendRequest,
  BACKENDS,
  describeBackend,
  selectBackend,
  type SelectOptions,
} from "./src/backend/select.ts";
export { type AdapterSummary } from "./src/backend/webgpu.ts";
export { batchNormInfer, type BatchNormResult, batchNormTrain } from "./src/backend/batch_norm.ts";
export {
  checkStepMemory,
  estimateStepBytes,
  maxMicroBatch,
  type StepMemoryOptions,
  WASM_HEAP_BYTES,
  WASM_STEP_LIMIT_BYTES,
} from "./src/backend/memory.ts";
export {
  CacheDataset,
  type CacheIndex,
  isCacheFile,
  openCache,
  type OpenCacheOptions,
  prepareCache,
  type PrepareOptions,
  type PrepareResult,
} from "./src/data/cache.ts";
export { type ImageDataset, openImages, type OpenImagesOptions } from "./src/data/open.ts";
export { batchesOf, DecodePool, prefetch } from "./src/data/prefetch.ts";
export {
  type Balance,
  BALANCE_MODES,
  balancedOrder,
  classCounts,
  classWeights,
  epochOrder,
  formatClassDistribution,
  parseBalance,
  shuffledOrder,
} from "./src/data/sampler.ts";
export {
  type Classifier,
  type LsdTestOptions,
  predictLsdTest,
  readTestList,
  writeLsdSubmission,
  writeSubmission,
} from "./src/data/submission.ts";
export {
  type ArchConfig,
  type AugmentConfig,
  type BackendName,
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
  RECIPE_AUGMENT,
  resolveConfig,
  SMOKE,
  SUPERVISED_AUGMENT,
  validateConfig,
} from "./src/config.ts";
export { classifierModel, type EmotionModel, load } from "./src/model/classifier.ts";
export { loadModelParams, type ModelMetadata, saveModel } from "./src/model/io.ts";
export { Params } from "./src/model/params.ts";
export { featureDim, resnetForward, resnetInit } from "./src/model/resnet.ts";
export { emotionClassifier, emotionClassifierInit, orthogonalMatrix } from "./src/model/heads.ts";
export {
  classifierForward,
  initClassifier,
  initPretrainNets,
  onlineForward,
  targetForward,
} from "./src/model/networks.ts";
export {
  byolLoss,
  crossEntropy,
  emaDecayAt,
  emotionVector,
  orthLoss,
  pretrainLoss,
  subtractEmotion,
  updateTarget,
} from "./src/train/byel.ts";
export { Lars } from "./src/train/lars.ts";
export { Adam, type Optimizer, Sgd } from "./src/train/optimizers.ts";
export { learningRate } from "./src/train/schedules.ts";
export {
  NonFiniteLossError,
  train,
  type TrainOptions,
  type TrainResult,
} from "./src/train/loop.ts";
export {
  augmentBatch,
  type AugmentParams,
  drawAugmentParams,
  prepareImages,
} from "./src/data/augment.ts";
export {
  computeMetrics,
  confusionMatrix,
  formatMetrics,
  type Metrics,
} from "./src/eval/metrics.ts";
export { evaluateDataset, predictDataset } from "./src/eval/evaluate.ts";
export { renderReport } from "./src/eval/report.ts";
