// deno-lint-ignore-file no-import-prefix -- full npm: specifiers on purpose: mod.ts must work
// when imported from a URL, where this repository's import map does not apply.
/**
 * The one place that names npm packages and their versions. Every other file imports from
 * here, so `mod.ts` works when imported from a URL by a user who has none of this repo's
 * config (full `npm:` specifiers, no import-map names).
 *
 * @module
 */
import * as tf from "npm:@tensorflow/tfjs-core@4.22.0";
import "npm:@tensorflow/tfjs-backend-cpu@4.22.0";
// tfjs-core's Node bundle registers no gradients (the union `@tensorflow/tfjs` package does that);
// without them tf.grads fails with "gradient function not found". See the vendored file's header.
import "./vendor/tfjs_core_gradients.js";

export { tf };
export * as tfwasm from "npm:@tensorflow/tfjs-backend-wasm@4.22.0";
// The WebGPU backend registers itself on import; it starts nothing until selected.
export * as tfwebgpu from "npm:@tensorflow/tfjs-backend-webgpu@4.22.0";

/** PNG encode/decode (pure JS; 8/16-bit, gray, gray+alpha, RGB, RGBA, palette). */
export * as png from "npm:fast-png@8.0.0";
/** Baseline and progressive JPEG decoding (pure JS). */
export { default as jpeg } from "npm:jpeg-js@0.4.4";

/** What `@cwasm/jpeg-turbo` exports: libjpeg-turbo's TurboJPEG decoder compiled to WASM. */
export interface JpegTurbo {
  /** Decodes a JPEG to RGBA; throws on damaged data. */
  decode(input: Uint8Array): { width: number; height: number; data: Uint8ClampedArray };
}

/**
 * Loads libjpeg-turbo (WASM; about 2.5x faster than jpeg-js). Lazy, because the package reads
 * its `.wasm` from the npm cache when imported, which needs read access there: callers fall
 * back to jpeg-js when this rejects.
 */
export const loadJpegTurbo = (): Promise<JpegTurbo> =>
  import("npm:@cwasm/jpeg-turbo@0.1.3") as Promise<JpegTurbo>;

/** The tfjs version every backend is pinned to. */
export const TFJS_VERSION = "4.22.0";

/** Loads tfjs graph models (the face detector and landmarks) on this same tfjs-core. */
export { type GraphModel, loadGraphModel } from "npm:@tensorflow/tfjs-converter@4.22.0";
