/**
 * ResNet-18 and ResNet-50 backbones in the torchvision structure (v1.5: the stride sits on the
 * 3x3 conv of a bottleneck), with a width multiplier and an optional CIFAR-style stem for small
 * inputs. The representation is the global-average-pooled output of the last stage.
 *
 * @module
 */
import { tf } from "../deps.ts";
import type { ArchConfig } from "../config.ts";
import type { Rng } from "../rng.ts";
import { bnInit, convBn, convInit, type ForwardContext } from "./layers.ts";
import { maxPool3x3s2 } from "../backend/max_pool.ts";
import type { Params } from "./params.ts";
import type { Tensor2D, Tensor4D } from "../tensors.ts";

const _BLOCKS: Record<18 | 50, number[]> = { 18: [2, 2, 2, 2], 50: [3, 4, 6, 3] };

/** @returns stage widths (before bottleneck expansion) for a width multiplier @param width multiplier */
export function stageWidths(width: number): number[] {
  return [64, 128, 256, 512].map((c) => Math.max(1, Math.round(c * width)));
}

/** @returns the representation size: 512 x width (ResNet-18) or 2048 x width (ResNet-50) @param arch architecture */
export function featureDim(arch: ArchConfig): number {
  return stageWidths(arch.width)[3] * (arch.depth === 50 ? 4 : 1);
}

/**
 * Adds an encoder's parameters under `prefix`.
 *
 * @param p record @param prefix e.g. `online.encoder`
 * @returns the representation size
 */
export function resnetInit(
  p: Params,
  prefix: string,
  opts: { arch: ArchConfig; rng: Rng },
): number {
  const { arch, rng } = opts;
  const widths = stageWidths(arch.width);
  const stemOut = Math.max(1, Math.round(64 * arch.width));
  const expansion = arch.depth === 50 ? 4 : 1;
  convInit(p, `${prefix}.stem.conv`, {
    k: arch.stem === "imagenet" ? 7 : 3,
    cin: 3,
    cout: stemOut,
    rng,
  });
  bnInit(p, `${prefix}.stem.bn`, stemOut);
  let cin = stemOut;
  _BLOCKS[arch.depth].forEach((n, s) => {
    const c = widths[s];
    for (let b = 0; b < n; b++) {
      const name = `${prefix}.layer${s + 1}.${b}`;
      const stride = b === 0 && s > 0 ? 2 : 1;
      if (arch.depth === 18) {
        convInit(p, `${name}.conv1`, { k: 3, cin, cout: c, rng });
        bnInit(p, `${name}.bn1`, c);
        convInit(p, `${name}.conv2`, { k: 3, cin: c, cout: c, rng });
        bnInit(p, `${name}.bn2`, c);
      } else {
        convInit(p, `${name}.conv1`, { k: 1, cin, cout: c, rng });
        bnInit(p, `${name}.bn1`, c);
        convInit(p, `${name}.conv2`, { k: 3, cin: c, cout: c, rng });
        bnInit(p, `${name}.bn2`, c);
        convInit(p, `${name}.conv3`, { k: 1, cin: c, cout: c * expansion, rng });
        bnInit(p, `${name}.bn3`, c * expansion);
      }
      if (stride !== 1 || cin !== c * expansion) {
        convInit(p, `${name}.down.conv`, { k: 1, cin, cout: c * expansion, rng });
        bnInit(p, `${name}.down.bn`, c * expansion);
      }
      cin = c * expansion;
    }
  });
  return cin;
}

/**
 * Runs an encoder.
 *
 * @param p record @param prefix as given to {@link resnetInit}
 * @param x `[B, S, S, 3]` float32, ImageNet-normalised
 * @returns `[B, F]` the pooled representation y
 */
export function resnetForward(
  p: Params,
  prefix: string,
  x: Tensor4D,
  opts: { arch: ArchConfig; ctx: ForwardContext },
): Tensor2D {
  const { arch, ctx } = opts;
  // conv `${at}.conv${i}` + BatchNorm `${at}.bn${i}` (+ relu)
  const cbr = (at: string, i: string, t: Tensor4D, stride: number, relu = true) =>
    convBn(p, { conv: `${at}.conv${i}`, bn: `${at}.bn${i}` }, t, { stride, relu, ctx });
  let h = cbr(`${prefix}.stem`, "", x, arch.stem === "imagenet" ? 2 : 1); // [B, S/2, S/2, C0]
  if (arch.stem === "imagenet") h = maxPool3x3s2(h); // [B, S/4, S/4, C0]
  _BLOCKS[arch.depth].forEach((n, s) => {
    for (let b = 0; b < n; b++) {
      const name = `${prefix}.layer${s + 1}.${b}`;
      const stride = b === 0 && s > 0 ? 2 : 1;
      let out: Tensor4D;
      if (arch.depth === 18) {
        out = cbr(name, "1", h, stride);
        out = cbr(name, "2", out, 1, false);
      } else {
        out = cbr(name, "1", h, 1);
        out = cbr(name, "2", out, stride);
        out = cbr(name, "3", out, 1, false);
      }
      const shortcut = p.vars.has(`${name}.down.conv.w`)
        ? cbr(`${name}.down`, "", h, stride, false)
        : h;
      h = tf.relu(tf.add(out, shortcut)); // [B, H/stride, W/stride, C x expansion]
    }
  });
  return tf.mean(h, [1, 2]) as Tensor2D; // [B, F]
}
