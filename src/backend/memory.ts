/**
 * Memory guard for training steps. The WASM heap is capped at 4 GiB and never shrinks; a step
 * that runs past it crashes with "memory access out of bounds" or, threaded, can hang. So we
 * estimate a step's bytes before starting and refuse with a message naming the
 * `--<stage>.microBatch` that fits (gradient accumulation keeps the effective batch).
 *
 * The estimate counts every tensor a torchvision-style ResNet keeps on the gradient tape
 * (tfjs holds all of them until the backward pass), the transient tensors of the backward pass,
 * and per-parameter state. It is deliberately on the high side (×1.2 for heap fragmentation).
 *
 * @module
 */
import type { Config } from "../config.ts";
import { UserError } from "../errors.ts";

/** The WASM heap's hard limit. */
export const WASM_HEAP_BYTES = 4 * 1024 ** 3;
/** What we let a step use on WASM: the rest is allocator slack and non-tensor memory. */
export const WASM_STEP_LIMIT_BYTES = 3.5 * 1024 ** 3;

/** The training step to size. */
export interface StepMemoryOptions {
  /** Images per (micro-)batch, per view. */
  batch: number;
  /** Input side in pixels (square images). */
  imageSize: number;
  /** Encoder family (see `ArchConfig.family`). @default "resnet" */
  family?: "resnet" | "vgg";
  /** ResNet depth. @default 18 */
  depth?: 18 | 50;
  /** Channel width multiplier (1 = torchvision widths 64..512). @default 1 */
  widthMultiplier?: number;
  /** Views through the online network per step (BYEL: 2; supervised: 1). @default 2 */
  views?: number;
  /** "imagenet": 7×7/2 conv and 3×3/2 max-pool; "cifar": one 3×3/1 conv. @default "imagenet" */
  stem?: "imagenet" | "cifar";
  /** Parameter count, when known exactly; otherwise derived from depth and width. */
  params?: number;
}

interface _Shape {
  /** float32 values kept on the tape per image */
  tape: number;
  /** the largest single activation per image */
  largest: number;
  /** parameter count of the backbone */
  params: number;
}

/** Activations and parameters of the VGG-style encoder (`src/model/vgg.ts`). */
function _vgg(imageSize: number, width: number): _Shape {
  let side = imageSize, cin = 3, tape = 3 * imageSize * imageSize, largest = 0, params = 0;
  for (const c0 of [64, 128, 256, 512]) {
    const c = Math.max(1, Math.round(c0 * width));
    const hw = side * side;
    // two (conv, BN x-hat and y, ReLU), then the pool's output
    tape += 8 * hw * c + Math.floor(side / 2) ** 2 * c;
    largest = Math.max(largest, hw * c);
    params += 9 * cin * c + 9 * c * c + 4 * c;
    cin = c;
    side = Math.floor(side / 2);
  }
  return { tape, largest, params };
}

/** Activations and parameters of a torchvision ResNet (or its CIFAR-stem variant). */
function _resnet(
  imageSize: number,
  depth: 18 | 50,
  width: number,
  stem: "imagenet" | "cifar",
): _Shape {
  const ch = (c: number) => Math.max(1, Math.round(c * width));
  const stemC = ch(64);
  const imagenet = stem === "imagenet";
  let side = imagenet ? Math.ceil(imageSize / 2) : imageSize;
  // stem: conv, BN (x̂ and y), ReLU; then the max-pool output
  let tape = 3 * imageSize * imageSize + 4 * side * side * stemC;
  let largest = side * side * stemC;
  let params = (imagenet ? 49 : 9) * 3 * stemC + 2 * stemC;
  if (imagenet) {
    side = Math.ceil(side / 2);
    tape += side * side * stemC;
  }
  const blocks = depth === 18 ? [2, 2, 2, 2] : [3, 4, 6, 3];
  const expansion = depth === 18 ? 1 : 4;
  let cin = stemC;
  blocks.forEach((n, stage) => {
    const c = ch(64 * 2 ** stage);
    const cout = c * expansion;
    for (let b = 0; b < n; b++) {
      if (b === 0 && stage > 0) side = Math.ceil(side / 2);
      const hw = side * side;
      if (depth === 18) {
        tape += 9 * hw * c; // conv, BN×2, ReLU, conv, BN×2, add, ReLU
        params += 9 * cin * c + 9 * c * c + 4 * c;
      } else {
        tape += 8 * hw * c + 5 * hw * cout; // two (conv, BN×2, ReLU) at c; conv, BN×2, add, ReLU at 4c
        params += cin * c + 9 * c * c + c * cout + 4 * c + 2 * cout;
      }
      if (b === 0 && cin !== cout || b === 0 && stage > 0) {
        tape += 3 * hw * cout; // shortcut conv and BN
        params += cin * cout + 2 * cout;
      }
      largest = Math.max(largest, hw * cout);
      cin = cout;
    }
  });
  return { tape, largest, params };
}

/**
 * Estimates the peak bytes of one training step (forward with tape, backward, optimizer and
 * target EMA) of a ResNet, for the memory guard.
 *
 * @param opts batch, image size, depth, width, views, optional exact parameter count
 * @returns bytes, rounded up
 * @example
 * ```ts
 * estimateStepBytes({ batch: 32, imageSize: 64 }); // ResNet-18, two views: ~0.4 GiB
 * ```
 */
export function estimateStepBytes(opts: StepMemoryOptions): number {
  const { batch, imageSize, depth = 18, widthMultiplier = 1, views = 2, stem = "imagenet" } = opts;
  if (!(batch >= 1 && imageSize >= 8)) {
    throw new RangeError(`estimateStepBytes: batch ${batch} (>= 1), imageSize ${imageSize} (>= 8)`);
  }
  const net = opts.family === "vgg"
    ? _vgg(imageSize, widthMultiplier)
    : _resnet(imageSize, depth, widthMultiplier, stem);
  const params = opts.params ?? net.params;
  // On the tape: every view's activations. The target network's forward pass and the backward
  // pass are transient: about six of the largest activations at once (dy, dx, and the transposed
  // copies the WASM filter gradient makes).
  const floats = batch * views * net.tape + batch * 6 * net.largest +
    // online weights, gradients, momentum, target weights, and two optimizer temporaries
    6 * params;
  return Math.ceil(4 * floats * 1.2);
}

/**
 * The largest micro-batch (per view) whose step fits in `limitBytes`.
 *
 * @param opts the step, with `batch` ignored
 * @param limitBytes @default WASM_STEP_LIMIT_BYTES
 * @returns 0 when not even one image fits
 */
export function maxMicroBatch(
  opts: Omit<StepMemoryOptions, "batch">,
  limitBytes = WASM_STEP_LIMIT_BYTES,
): number {
  let lo = 0, hi = 1;
  while (estimateStepBytes({ ...opts, batch: hi }) <= limitBytes && hi < 1 << 20) {
    lo = hi;
    hi *= 2;
  }
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (estimateStepBytes({ ...opts, batch: mid }) <= limitBytes) lo = mid;
    else hi = mid;
  }
  return lo;
}

/**
 * Refuses, before training, a run whose (micro-)batch step would not fit the WASM heap, naming
 * the `--<stage>.microBatch` that would (gradient accumulation keeps the effective batch).
 * Other backends are not capped (WebGPU has its own buffer limits, CPU uses the JS heap).
 *
 * @param cfg the run's config (arch, pretrain and finetune batch and microBatch)
 * @param backend the active backend's name
 * @param opts `limitBytes` @default WASM_STEP_LIMIT_BYTES; `stages` @default both
 * @throws UserError naming the flag and a value that fits
 */
export function checkRunMemory(
  cfg: Config,
  backend: string,
  opts: { limitBytes?: number; stages?: readonly ("pretrain" | "finetune")[] } = {},
): void {
  if (backend !== "wasm") return;
  const limitBytes = opts.limitBytes ?? WASM_STEP_LIMIT_BYTES;
  const gib = (b: number) => (b / 1024 ** 3).toFixed(1);
  for (const stage of opts.stages ?? ["pretrain", "finetune"] as const) {
    const s = cfg[stage];
    const micro = s.microBatch > 0 ? s.microBatch : s.batch;
    const step = {
      imageSize: cfg.arch.inputSize,
      family: cfg.arch.family,
      depth: cfg.arch.depth,
      widthMultiplier: cfg.arch.width,
      stem: cfg.arch.stem,
      views: stage === "pretrain" ? 2 : 1,
    };
    const bytes = estimateStepBytes({ ...step, batch: micro });
    if (bytes <= limitBytes) continue;
    const fit = maxMicroBatch(step, limitBytes);
    if (fit === 0) {
      throw new UserError(
        `one image of ${cfg.arch.inputSize} px needs ~${gib(bytes / micro)} GiB per ${stage} ` +
          `step, over the ${gib(limitBytes)} GiB WASM limit; use a smaller --arch.inputSize or ` +
          `--arch.width, or --backend webgpu`,
      );
    }
    // The largest divisor of the batch that fits, so the effective batch stays the same.
    let d = Math.min(fit, s.batch);
    while (s.batch % d !== 0) d--;
    throw new UserError(
      `${stage} micro-batch ${micro} needs ~${gib(bytes)} GiB, more than the WASM heap allows ` +
        `(${gib(limitBytes)} GiB); pass --${stage}.microBatch ${d} (a divisor of ` +
        `--${stage}.batch ${s.batch}) to accumulate gradients instead`,
    );
  }
}
