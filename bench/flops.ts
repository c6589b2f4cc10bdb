/**
 * Analytic FLOP counts for the benchmarked networks (the ResNets and the VGG of `src/model/`),
 * from their shapes alone. Only convolutions and matrix products are counted (a multiply-add is
 * 2 FLOPs); BatchNorm, instance norm, ReLU, pooling, the augmentations and the losses are
 * elementwise and left out, as is usual. A training step is counted as 3x its forward
 * pass (forward, input gradient, weight gradient), the common approximation: it slightly
 * over-counts the first convolution, whose input gradient nobody needs.
 *
 * @example
 * ```ts
 * import { QUICK } from "../src/config.ts";
 * import { stepFlops } from "./flops.ts";
 * const f = stepFlops("byel", { ...QUICK.arch, inputSize: 64 });
 * ```
 *
 * @module
 */
import type { ArchConfig } from "../src/config.ts";
import { stageWidths } from "../src/model/resnet.ts";
import { featureDim } from "../src/model/encoder.ts";
import { NUM_CLASSES } from "../src/emotions.ts";

/** The steps the benchmark times. */
export const STEP_KINDS = ["supervised", "byel", "inference"] as const;
/** One benchmarked step. */
export type StepKind = typeof STEP_KINDS[number];

/** Projector/predictor sizes of the BYEL heads. */
export interface HeadSizes {
  /** Hidden width of the projector and predictor MLPs. */
  hidden: number;
  /** Projection size D. */
  projectionDim: number;
}

/**
 * @returns the output side of a `k x k` convolution (or pool) with padding `floor(k / 2)`
 * @param side input side @param opts kernel and stride
 */
export function convOut(side: number, opts: { k: number; stride: number }): number {
  const pad = Math.floor(opts.k / 2);
  return Math.floor((side + 2 * pad - opts.k) / opts.stride) + 1;
}

/**
 * FLOPs of one image through a convolution: 2 x outH x outW x k x k x cin x cout.
 *
 * @param side input side (square) @param opts kernel, stride, channels
 * @returns FLOPs per image
 */
export function convFlops(
  side: number,
  opts: { k: number; stride: number; cin: number; cout: number },
): number {
  const o = convOut(side, opts);
  return 2 * o * o * opts.k * opts.k * opts.cin * opts.cout;
}

/** @returns FLOPs of one row through a dense layer: 2 x fin x fout @param fin inputs @param fout outputs */
export function denseFlops(fin: number, fout: number): number {
  return 2 * fin * fout;
}

/**
 * Forward FLOPs of one image through the encoder of `src/model/resnet.ts` (same stem, blocks,
 * strides and width rounding).
 *
 * @param arch architecture
 * @returns FLOPs per image
 */
export function resnetFlops(arch: ArchConfig): number {
  const widths = stageWidths(arch.width);
  const stemOut = Math.max(1, Math.round(64 * arch.width));
  const imagenet = arch.stem === "imagenet";
  const stem = { k: imagenet ? 7 : 3, stride: imagenet ? 2 : 1, cin: 3, cout: stemOut };
  let total = convFlops(arch.inputSize, stem);
  let side = convOut(arch.inputSize, stem);
  if (imagenet) side = convOut(side, { k: 3, stride: 2 }); // max-pool
  const blocks = arch.depth === 50 ? [3, 4, 6, 3] : [2, 2, 2, 2];
  const expansion = arch.depth === 50 ? 4 : 1;
  let cin = stemOut;
  blocks.forEach((n, s) => {
    const c = widths[s];
    for (let b = 0; b < n; b++) {
      const stride = b === 0 && s > 0 ? 2 : 1;
      const out = convOut(side, { k: 1, stride });
      if (arch.depth === 18) {
        total += convFlops(side, { k: 3, stride, cin, cout: c });
        total += convFlops(out, { k: 3, stride: 1, cin: c, cout: c });
      } else {
        total += convFlops(side, { k: 1, stride: 1, cin, cout: c });
        total += convFlops(side, { k: 3, stride, cin: c, cout: c });
        total += convFlops(out, { k: 1, stride: 1, cin: c, cout: c * expansion });
      }
      if (stride !== 1 || cin !== c * expansion) {
        total += convFlops(side, { k: 1, stride, cin, cout: c * expansion });
      }
      cin = c * expansion;
      side = out;
    }
  });
  return total;
}

/**
 * Forward FLOPs of one image through the encoder of `src/model/vgg.ts`: four stages of two 3x3
 * stride-1 convolutions, a 2x2 max-pool after each (an odd side drops its last row).
 *
 * @param arch architecture (`width`, `inputSize`)
 * @returns FLOPs per image
 */
export function vggFlops(arch: Pick<ArchConfig, "width" | "inputSize">): number {
  let total = 0, side = arch.inputSize, cin = 3;
  for (const c of stageWidths(arch.width)) {
    for (let k = 0; k < 2; k++) {
      total += convFlops(side, { k: 3, stride: 1, cin, cout: c });
      cin = c;
    }
    side = Math.floor(side / 2);
  }
  return total;
}

/** @returns forward FLOPs per image of the encoder `arch` names @param arch architecture */
export function encoderFlops(arch: ArchConfig): number {
  return arch.family === "vgg" ? vggFlops(arch) : resnetFlops(arch);
}

/** @returns forward FLOPs per row of Linear(din, hidden) -> BN -> ReLU -> Linear(hidden, dout) */
export function mlpFlops(din: number, opts: { hidden: number; dout: number }): number {
  return denseFlops(din, opts.hidden) + denseFlops(opts.hidden, opts.dout);
}

/**
 * FLOPs per image of one benchmarked step:
 *
 * - `inference`: encoder (ResNet or VGG) + 6-way head, forward only;
 * - `supervised`: 3 x (encoder + 6-way head);
 * - `byel`: per image, two views through the online network (encoder, projector, predictor,
 *   emotion classifier) trained (3x), and two views through the target (encoder, projector)
 *   forward only.
 *
 * @param kind step @param arch architecture
 * @returns FLOPs per image (a BYEL "image" is one pair of views)
 */
export function stepFlops(
  kind: StepKind,
  arch: ArchConfig,
  heads: HeadSizes = { hidden: 512, projectionDim: 256 },
): number {
  const enc = encoderFlops(arch);
  const f = featureDim(arch);
  const { hidden, projectionDim: d } = heads;
  if (kind === "inference") return enc + denseFlops(f, NUM_CLASSES);
  if (kind === "supervised") return 3 * (enc + denseFlops(f, NUM_CLASSES));
  const projector = mlpFlops(f, { hidden, dout: d });
  const online = enc + projector + mlpFlops(d, { hidden, dout: d }) + denseFlops(d, NUM_CLASSES);
  return 2 * 3 * online + 2 * (enc + projector);
}
