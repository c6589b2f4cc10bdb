/**
 * byel: BYEL (Bootstrap Your Emotion Latent) facial emotion recognition for Deno on
 * TensorFlow.js, trained only on the synthetic faces it renders itself, on WebGPU, threaded-SIMD
 * WebAssembly or the CPU. Import it from this repository, from any URL that serves it, or from
 * JSR once published.
 *
 * @example Read the faces in a photo with the shipped model
 * ```ts
 * import { classifyPhoto, FaceStage, load, readImageFile, selectBackend, SHIPPED_MODEL } from "./mod.ts";
 *
 * const backend = await selectBackend(); // WebGPU, else threaded-SIMD WASM, else CPU
 * console.log(backend.name, backend.skipped);
 * const model = await load(SHIPPED_MODEL); // or any path or http(s) URL of a model folder
 * const faces = await FaceStage.load(); // detector + landmarks, vendored in models/face
 * const photo = await readImageFile("photo.jpg");
 * for (const f of await classifyPhoto(model, photo, { face: faces })) {
 *   console.log(f.box, f.class, f.probabilities.happiness);
 * }
 * faces.dispose();
 * model.dispose();
 * ```
 *
 * @example Score a model on rendered faces
 * ```ts
 * import { load, SHIPPED_MODEL, SyntheticFaces } from "./mod.ts";
 *
 * const model = await load(SHIPPED_MODEL);
 * const faces = new SyntheticFaces({ domain: "real", seed: 7, size: 48, length: 60 });
 * const batch = await faces.batch([0, 1, 2, 3, 4, 5]); // [6, 48, 48, 3] float32 in [0, 1]
 * console.log((await model.classify(batch)).map((r) => r.class));
 * console.log((await model.evaluate(faces)).macroF1);
 * ```
 *
 * @example Train BYEL on the embedded faces
 * ```ts
 * import { openRunData, resolveConfig, selectBackend, train } from "./mod.ts";
 *
 * const backend = await selectBackend();
 * const config = resolveConfig("smoke", { method: "byel" }); // any setting, as on the CLI
 * const { train: images, val, close } = await openRunData(config); // the embedded faces
 * const result = await train({ config, train: images, val, outDir: "runs/example", backend: backend.name });
 * close();
 * console.log(result.metrics?.macroF1, result.modelDir);
 * ```
 *
 * @module
 */

// The six classes, in LSD order, and the one folder-name alias table.
export { classIndex, type Emotion, EMOTIONS, NUM_CLASSES } from "./src/emotions.ts";
export { ioErrorLine, UserError } from "./src/errors.ts";
export { VERSION } from "./src/version.ts";
export { hash32, Rng, STREAM } from "./src/rng.ts";
// Tensors: tfjs-core's own types. To make tensors, import tfjs-core at TFJS_VERSION yourself
// (`npm:@tensorflow/tfjs-core@4.22.0`): it resolves to the same instance byel runs on.
export type {
  NamedTensorMap,
  Scalar,
  Tensor,
  Tensor1D,
  Tensor2D,
  Tensor3D,
  Tensor4D,
  Variable,
} from "./src/tensors.ts";
export { TFJS_VERSION } from "./src/deps.ts";

// Engine: backend choice, the WASM Winograd and kernel-thread switches, the WASM memory guard.
export {
  type BackendInfo,
  type BackendName,
  type BackendRequest,
  BACKENDS,
  describeBackend,
  selectBackend,
  type SelectOptions,
} from "./src/backend/select.ts";
export type { AdapterSummary } from "./src/backend/webgpu.ts";
export { setWinograd } from "./src/backend/kernels/winograd.ts";
export { setSimdParallel } from "./src/backend/kernels/wasm_simd.ts";
export { checkRunMemory, estimateStepBytes, type StepMemoryOptions } from "./src/backend/memory.ts";

// Data: the one Dataset interface, the synthetic faces, photos, image folders and caches.
export type { Batch, Dataset } from "./src/data/dataset.ts";
export {
  contactSheet,
  type ContactSheetOptions,
  type DomainName,
  DOMAINS,
  encodePng,
  SyntheticFaces,
  type SyntheticFacesOptions,
} from "./src/data/synth/mod.ts";
export type { RgbImage } from "./src/data/image.ts";
export {
  type DecodedFiles,
  DecodeError,
  type DecodeFailure,
  decodeImage,
  decodeImageFile,
  type FileDecoder,
  type FileFailure,
  readImageFile,
} from "./src/data/decode.ts";
export { type ResizeOptions, resizeSquare, type Upscale } from "./src/data/resize.ts";
export {
  type BadFile,
  ImageFolderDataset,
  type ImageFolderOptions,
  LSD_SPLITS,
  type LsdSplit,
  readImageFolder,
  readLsd,
  type SourceFile,
} from "./src/data/folders.ts";
export { type ImageDataset, openImages, type OpenImagesOptions } from "./src/data/open.ts";
export {
  CACHE_FORMAT,
  CacheDataset,
  type CacheIndex,
  openCache,
  type OpenCacheOptions,
  prepareCache,
  type PrepareOptions,
  type PrepareResult,
} from "./src/data/cache.ts";
export { DecodePool } from "./src/data/prefetch.ts";
export {
  classCounts,
  classWeights,
  epochOrder,
  formatClassDistribution,
  type Labelled,
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
  augmentBatch,
  type AugmentParams,
  drawAugmentParams,
  normalizeInput,
  prepareImages,
} from "./src/data/augment.ts";

// Faces in photographs: detection, landmarks and the canonical aligned crop.
export {
  type AlignedFace,
  FACE_MODES,
  FaceDecoder,
  type FaceMode,
  FaceStage,
} from "./src/face/stage.ts";
export type { DetectOptions, Face, FaceLandmarks } from "./src/face/detect.ts";
export { alignFace, alignmentAffine, type AlignOptions } from "./src/face/align.ts";
export { CANONICAL, canonicalScale } from "./src/face/canonical.ts";
export type { Affine, Point, RgbInput } from "./src/face/warp.ts";

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
  type ScheduleName,
  SMOKE,
  validateConfig,
} from "./src/config.ts";

// The method: pure losses and updates, optimisers, schedules, steps and the one training loop.
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
export {
  Adam,
  type Optimizer,
  type OptimizerOptions,
  Sgd,
  SlotOptimizer,
} from "./src/train/optimizers.ts";
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
export { compareMethods, type ComparisonRow, formatComparison } from "./src/train/compare.ts";

// Models: networks, save/load, the loaded classifier.
export {
  type Classification,
  classifierModel,
  type EmotionModel,
  load,
} from "./src/model/classifier.ts";
export {
  loadModelParams,
  type MemberMetadata,
  memberPrefix,
  type ModelMetadata,
  saveModel,
  SHIPPED_MODEL,
} from "./src/model/io.ts";
export {
  buildEnsemble,
  describeModel,
  ensembleLogits,
  meanProbabilityLogits,
} from "./src/model/ensemble.ts";
export { Params } from "./src/model/params.ts";
export type { BnUpdate, ForwardContext } from "./src/model/layers.ts";
export { encoderForward, encoderInit, featureDim } from "./src/model/encoder.ts";
export {
  classifierForward,
  initClassifier,
  initPretrainNets,
  NET,
  onlineForward,
  type OnlineOutputs,
  targetForward,
} from "./src/model/networks.ts";

// Evaluation: the challenge metric, photos, dev sets, test-time adaptation and augmentation,
// reports.
export {
  type ClassScores,
  computeMetrics,
  confusionMatrix,
  formatMetrics,
  type Metrics,
} from "./src/eval/metrics.ts";
export {
  evaluateDataset,
  type LogitsFn,
  predictDataset,
  type Predictions,
} from "./src/eval/evaluate.ts";
export {
  classifyFaces,
  classifyPhoto,
  type FaceResult,
  type PhotoFace,
  photoFaces,
  photoFacesBatch,
} from "./src/eval/photos.ts";
export {
  DEFAULT_DEVSETS,
  type DevsetScore,
  findDevsets,
  formatDevsetTable,
  scoreDevsets,
} from "./src/eval/devsets.ts";
export { adaptBatchNorm, type AdaptResult } from "./src/eval/adapt.ts";
export {
  DEFAULT_TTA,
  parseTta,
  type Tta,
  TTA_SCALES,
  ttaProbabilities,
  TTAS,
  ttaViews,
} from "./src/eval/tta.ts";
export { type EvalRow, type LossRow, renderReport } from "./src/eval/report.ts";
