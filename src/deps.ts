/**
 * The one place that names npm packages and their versions. Every other file imports from
 * here, so `mod.ts` works when imported from a URL by a user who has none of this repo's
 * config (full `npm:` specifiers, no import-map names).
 *
 * @module
 */
import * as tf from "npm:@tensorflow/tfjs-core@4.22.0";
import "npm:@tensorflow/tfjs-backend-cpu@4.22.0";

export { tf };
export * as tfwasm from "npm:@tensorflow/tfjs-backend-wasm@4.22.0";
// The WebGPU backend registers itself on import; it starts nothing until selected.
export * as tfwebgpu from "npm:@tensorflow/tfjs-backend-webgpu@4.22.0";

/** PNG encode/decode (pure JS; 8/16-bit, gray, gray+alpha, RGB, RGBA, palette). */
export * as png from "npm:fast-png@8.0.0";
/** Baseline and progressive JPEG decoding (pure JS). */
export { default as jpeg } from "npm:jpeg-js@0.4.4";

/** The tfjs version every backend is pinned to. */
export const TFJS_VERSION = "4.22.0";
