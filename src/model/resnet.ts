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
import type { Params } from "./params.ts";
import type { Tensor, Tensor2D, Tensor4D } from "../tensors.ts";

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
 * 3x3 max-pool, stride 2, padding 1 (torchvision's stem pool). The forward pass is
 * `tf.maxPool(x, 3, 2, 1)`; on WASM the gradient is computed here in plain JS, because that
 * backend's MaxPoolGrad (tfjs 4.22) routes gradients to the wrong elements when channels > 2
 * (measured against the CPU backend and a hand-written reference; see tests/model_test.ts).
 *
 * @param x `[B, H, W, C]`
 * @returns `[B, floor((H - 1) / 2) + 1, floor((W - 1) / 2) + 1, C]`
 */
export function maxPool3x3s2(x: Tensor4D): Tensor4D {
  if (tf.getBackend() !== "wasm") return tf.maxPool(x, 3, 2, 1);
  const f = tf.customGrad((...args: (Tensor | tf.GradSaveFunc)[]) => {
    const [xIn, save] = args as [Tensor, tf.GradSaveFunc];
    save([xIn]);
    return {
      value: tf.maxPool(xIn as Tensor4D, 3, 2, 1),
      gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) =>
        maxPoolGrad3x3s2(saved[0] as Tensor4D, dy as Tensor4D),
    };
  });
  return f(x) as Tensor4D;
}

/**
 * The gradient of {@link maxPool3x3s2}: each output's gradient goes to the first maximum of its
 * window (row-major), as tfjs's CPU kernel does.
 *
 * @param x `[B, H, W, C]` the pool's input @param dy `[B, OH, OW, C]` upstream gradient
 * @returns `[B, H, W, C]`
 */
export function maxPoolGrad3x3s2(x: Tensor4D, dy: Tensor4D): Tensor4D {
  const [b, h, w, c] = x.shape;
  const [, oh, ow] = dy.shape;
  const xs = x.dataSync(), g = dy.dataSync();
  const dx = new Float32Array(xs.length);
  for (let n = 0; n < b; n++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        const o = ((n * oh + i) * ow + j) * c;
        for (let ch = 0; ch < c; ch++) {
          let best = -Infinity, at = -1;
          for (let a = 0; a < 3; a++) {
            const y = 2 * i - 1 + a;
            if (y < 0 || y >= h) continue;
            for (let bb = 0; bb < 3; bb++) {
              const xx = 2 * j - 1 + bb;
              if (xx < 0 || xx >= w) continue;
              const k = ((n * h + y) * w + xx) * c + ch;
              if (xs[k] > best) {
                best = xs[k];
                at = k;
              }
            }
          }
          if (at >= 0) dx[at] += g[o + ch];
        }
      }
    }
  }
  return tf.tensor4d(dx, [b, h, w, c]);
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
