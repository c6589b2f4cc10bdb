/**
 * A small VGG-style backbone for face crops of 40-64 px: four stages of two 3x3 convolutions
 * (each with BatchNorm and ReLU) and a 2x2 max-pool, then global average pooling. Its first
 * stage works at the full input resolution, where ResNet's ImageNet stem would have shrunk a
 * 64 px face to 16 px before its first block: on real photographs, that detail is what carries
 * an expression (a PyTorch probe on byel's own faces: 0.47-0.52 macro F1 on real tight crops
 * with this network, 0.39 with the quarter-width ResNet-18, same data and schedule).
 *
 * Channels are 64, 128, 256, 512 times the width multiplier (width 0.25: 16, 32, 64, 128, the
 * probe's network); the representation is 512 x width.
 *
 * @module
 */
import { tf } from "../deps.ts";
import type { ArchConfig } from "../config.ts";
import type { Rng } from "../rng.ts";
import {
  bnInit,
  conv,
  convBn,
  convInit,
  type ForwardContext,
  instanceNorm,
  instanceNormInit,
} from "./layers.ts";
import { maxPool2x2 } from "../backend/max_pool.ts";
import type { Params } from "./params.ts";
import { stageWidths } from "./resnet.ts";
import type { Tensor2D, Tensor4D } from "../tensors.ts";

/** Convolutions per stage. */
const _CONVS = 2;
/** With `arch.norm` `ibn`: the stages normalised per image (instance norm) instead of per batch. */
const _IN_STAGES = 2;

/** @returns whether stage `s` (0-based) uses instance norm under `arch` */
function _instance(arch: ArchConfig, s: number): boolean {
  return arch.norm === "ibn" && s < _IN_STAGES;
}

/**
 * Adds the backbone's parameters under `prefix`.
 *
 * @param p record @param prefix e.g. `online.encoder`
 * @returns the representation size (512 x width)
 */
export function vggInit(p: Params, prefix: string, opts: { arch: ArchConfig; rng: Rng }): number {
  let cin = 3;
  for (const [s, c] of stageWidths(opts.arch.width).entries()) {
    for (let k = 0; k < _CONVS; k++) {
      const name = `${prefix}.stage${s + 1}.${k}`;
      convInit(p, `${name}.conv`, { k: 3, cin, cout: c, rng: opts.rng });
      if (_instance(opts.arch, s)) instanceNormInit(p, `${name}.in`, c);
      else bnInit(p, `${name}.bn`, c);
      cin = c;
    }
  }
  return cin;
}

/**
 * Runs the backbone.
 *
 * @param x `[B, S, S, 3]` float32, normalised
 * @returns `[B, F]` the pooled representation
 */
export function vggForward(
  p: Params,
  prefix: string,
  x: Tensor4D,
  opts: { arch: ArchConfig; ctx: ForwardContext },
): Tensor2D {
  let h = x;
  for (let s = 0; s < 4; s++) {
    for (let k = 0; k < _CONVS; k++) {
      const name = `${prefix}.stage${s + 1}.${k}`;
      const last = k === _CONVS - 1;
      h = _instance(opts.arch, s)
        ? tf.relu(instanceNorm(p, `${name}.in`, conv(p, `${name}.conv`, h, { stride: 1 })))
        : convBn(p, { conv: `${name}.conv`, bn: `${name}.bn` }, h, {
          stride: 1,
          relu: true,
          ctx: opts.ctx,
          pool: last, // in evaluation, one kernel with the convolution on WASM
        }); // [B, H, W, C_s], the stage's last [B, H/2, W/2, C_s]
      if (last && _instance(opts.arch, s)) h = maxPool2x2(h); // [B, H/2, W/2, C_s]
    }
  }
  return tf.mean(h, [1, 2]) as Tensor2D; // [B, 512 x width]
}
