/**
 * byel: BYEL (Bootstrap Your Emotion Latent) facial emotion recognition, trained on synthetic
 * faces, on Deno + TensorFlow.js (WebGPU, threaded-SIMD WASM, or CPU).
 *
 * @module
 */
export { classIndex, type Emotion, EMOTIONS, NUM_CLASSES } from "./src/emotions.ts";
export { UserError } from "./src/errors.ts";
export { VERSION } from "./src/version.ts";
export type { Batch, Dataset } from "./src/data/dataset.ts";
