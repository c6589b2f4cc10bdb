/**
 * The encoder f, whichever family the config names: a ResNet (`resnet.ts`, the recipe's) or the
 * small VGG-style network (`vgg.ts`, which keeps full resolution in its first stage).
 *
 * @module
 */
import type { ArchConfig } from "../config.ts";
import type { Rng } from "../rng.ts";
import type { ForwardContext } from "./layers.ts";
import type { Params } from "./params.ts";
import {
  featureDim as resnetFeatureDim,
  resnetForward,
  resnetInit,
  stageWidths,
} from "./resnet.ts";
import { vggForward, vggInit } from "./vgg.ts";
import type { Tensor2D, Tensor4D } from "../tensors.ts";

/**
 * The size of the representation y an encoder produces.
 *
 * @param arch the architecture
 * @returns 512 x width (ResNet-18, vgg) or 2048 x width (ResNet-50)
 */
export function featureDim(arch: ArchConfig): number {
  return arch.family === "vgg" ? stageWidths(arch.width)[3] : resnetFeatureDim(arch);
}

/**
 * Adds an encoder's parameters under `prefix`.
 *
 * @param p record @param prefix e.g. `online.encoder`
 * @returns the representation size
 */
export function encoderInit(
  p: Params,
  prefix: string,
  opts: { arch: ArchConfig; rng: Rng },
): number {
  return opts.arch.family === "vgg" ? vggInit(p, prefix, opts) : resnetInit(p, prefix, opts);
}

/**
 * Runs an encoder.
 *
 * @param x `[B, S, S, 3]` float32, normalised
 * @returns `[B, F]` the representation y
 */
export function encoderForward(
  p: Params,
  prefix: string,
  x: Tensor4D,
  opts: { arch: ArchConfig; ctx: ForwardContext },
): Tensor2D {
  return opts.arch.family === "vgg"
    ? vggForward(p, prefix, x, opts)
    : resnetForward(p, prefix, x, opts);
}
