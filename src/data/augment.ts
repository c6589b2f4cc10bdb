/**
 * The augmentations as tensor ops on the active backend, drawn per image: one geometric warp
 * (random resized crop, then zoom, rotation, shift and horizontal flip about the crop's centre,
 * all in one projective transform with the edges replicated), colour jitter (brightness,
 * contrast, saturation, hue), grayscale, 3x3 Gaussian blur, then ImageNet normalisation. BYOL's
 * views use the crop; the supervised stage's mild face-keeping jitter (the PyTorch probe's:
 * scale ±15%, shift ±10%, rotation ±10°) uses zoom, shift and rotation.
 *
 * Parameters are drawn in plain JS by {@link drawAugmentParams} (pure, seeded, testable) and
 * applied by {@link augmentBatch}. Deviation from torchvision: the jitter operations run in a
 * fixed order (brightness, contrast, saturation, hue) rather than a random one, and hue turns
 * colours in YIQ space rather than HSV (a close, differentiable-op-only approximation).
 *
 * @module
 */
import { tf } from "../deps.ts";
import type { ArchConfig, AugmentConfig } from "../config.ts";
import type { Rng } from "../rng.ts";
import type { Tensor4D } from "../tensors.ts";
import { wasmBlurAvailable } from "../backend/kernels/wasm_augment.ts";

/** ImageNet channel means (RGB). */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
/** ImageNet channel standard deviations (RGB). */
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

/** The augmentation of one image. */
export interface AugmentParams {
  /** Crop `[top, left, height, width]` in source pixels. */
  crop: [number, number, number, number];
  /** Mirror left-right. */
  flip: boolean;
  /** Magnification about the crop's centre (1 = none; 1.1 shows 10% less of the face). */
  zoom: number;
  /** In-plane rotation, radians (positive: the content turns counter-clockwise on screen). */
  rotation: number;
  /** Translation `[x, y]` of the content, as fractions of the crop's side. */
  shift: [number, number];
  /** Brightness factor (1 = unchanged). */
  brightness: number;
  /** Contrast factor (1 = unchanged). */
  contrast: number;
  /** Saturation factor (1 = unchanged). */
  saturation: number;
  /** Hue shift in turns (0 = unchanged). */
  hue: number;
  /** Whether the image is turned to grayscale. */
  grayscale: boolean;
  /** Blur sigma (0 = no blur). */
  blurSigma: number;
  /**
   * Random convolution (RandConv, Xu et al. 2021): weight of the randomly filtered image in the
   * mix with the original (0 = none).
   */
  randConv: number;
  /**
   * The random convolution's filter, `[7, 7, 3, 3]` row-major (a 1x1, 3x3, 5x5 or 7x7 filter
   * centred in 7x7, zeros around it); empty when `randConv` is 0.
   */
  randConvFilter: number[];
}

/** Side of the stored random-convolution filters (the largest drawn). */
export const RAND_CONV_SIDE = 7;
const _RAND_CONV_SIZES = [1, 3, 5, 7];

/**
 * Draws one RandConv filter: side k from {1, 3, 5, 7}, weights N(0, 1 / (k^2 * 3)) (Kaiming
 * normal for three input channels), centred in a 7x7 window.
 *
 * @returns `[7, 7, 3, 3]` row-major
 */
export function drawRandConvFilter(rng: Rng): number[] {
  const k = _RAND_CONV_SIZES[rng.int(_RAND_CONV_SIZES.length)];
  const sd = 1 / Math.sqrt(k * k * 3), off = (RAND_CONV_SIDE - k) / 2;
  const w = new Array(RAND_CONV_SIDE * RAND_CONV_SIDE * 9).fill(0);
  for (let y = 0; y < k; y++) {
    for (let x = 0; x < k; x++) {
      for (let c = 0; c < 9; c++) {
        w[((y + off) * RAND_CONV_SIDE + (x + off)) * 9 + c] = rng.normal() * sd;
      }
    }
  }
  return w;
}

/**
 * Draws torchvision's RandomResizedCrop box for a `size x size` image.
 *
 * @returns `[top, left, height, width]` in pixels
 */
export function randomResizedCrop(
  size: number,
  opts: { scale: [number, number]; ratio: [number, number]; rng: Rng },
): [number, number, number, number] {
  const { scale, ratio, rng } = opts;
  const area = size * size;
  const [lr0, lr1] = [Math.log(ratio[0]), Math.log(ratio[1])];
  for (let t = 0; t < 10; t++) {
    const a = area * rng.uniform(scale[0], scale[1]);
    const r = Math.exp(rng.uniform(lr0, lr1));
    const w = Math.round(Math.sqrt(a * r));
    const h = Math.round(Math.sqrt(a / r));
    if (w > 0 && h > 0 && w <= size && h <= size) {
      return [rng.int(size - h + 1), rng.int(size - w + 1), h, w];
    }
  }
  return [0, 0, size, size]; // torchvision's fallback for a square image: the whole image
}

/**
 * Draws the augmentation of `n` images.
 *
 * @param cfg augmentation settings @param n images @param size source image side
 * @returns one {@link AugmentParams} per image
 */
export function drawAugmentParams(
  cfg: AugmentConfig,
  n: number,
  opts: { size: number; rng: Rng },
): AugmentParams[] {
  const { size, rng } = opts;
  const out: AugmentParams[] = [];
  for (let i = 0; i < n; i++) {
    const crop = randomResizedCrop(size, { scale: cfg.cropScale, ratio: cfg.cropRatio, rng });
    const flip = rng.chance(cfg.flipP);
    const zoom = rng.uniform(cfg.zoom[0], cfg.zoom[1]);
    const rotation = (rng.uniform(-1, 1) * cfg.rotation * Math.PI) / 180;
    const shift: [number, number] = [
      rng.uniform(-cfg.shift, cfg.shift),
      rng.uniform(-cfg.shift, cfg.shift),
    ];
    const jitter = rng.chance(cfg.jitterP);
    const f = (s: number) => (jitter ? rng.uniform(Math.max(0, 1 - s), 1 + s) : 1);
    const brightness = f(cfg.brightness);
    const contrast = f(cfg.contrast);
    const saturation = f(cfg.saturation);
    const hue = jitter ? rng.uniform(-cfg.hue, cfg.hue) : 0;
    const grayscale = rng.chance(cfg.grayscaleP);
    const blurSigma = rng.chance(cfg.blurP) ? rng.uniform(cfg.blurSigma[0], cfg.blurSigma[1]) : 0;
    // Drawn last and only when enabled, so configs without it keep their random streams.
    const randConv = cfg.randConvP > 0 && rng.chance(cfg.randConvP) ? rng.uniform(0, 1) : 0;
    const randConvFilter = randConv > 0 ? drawRandConvFilter(rng) : [];
    out.push({
      crop,
      flip,
      zoom,
      rotation,
      shift,
      brightness,
      contrast,
      saturation,
      hue,
      grayscale,
      blurSigma,
      randConv,
      randConvFilter,
    });
  }
  return out;
}

/**
 * The projective transform (tf.image.transform's 8 numbers, output pixel -> source pixel,
 * integer coordinates at pixel centres) of one image's geometric augmentation: the output
 * square shows the crop, mirrored if `flip`, rotated by `rotation` and magnified by `zoom`
 * about the crop's centre, moved by `shift`.
 *
 * @param p the image's parameters @param outSize output side (the source side is in `p.crop`)
 * @returns `[a0, a1, a2, b0, b1, b2, 0, 0]`: source x = a0 x + a1 y + a2, y = b0 x + b1 y + b2
 * @example
 * ```ts
 * affineTransform({ ...identity, crop: [0, 0, 64, 64] }, 64); // [1, 0, 0, 0, 1, 0, 0, 0]
 * ```
 */
export function affineTransform(p: AugmentParams, outSize: number): number[] {
  const [top, left, h, w] = p.crop;
  const t = outSize, c = Math.cos(p.rotation), s = Math.sin(p.rotation);
  const f = p.flip ? -1 : 1;
  // Offsets from the crop's centre, in source pixels, per unit of output offset (output side 1).
  const a = (c * w * f) / p.zoom, b = (-s * h) / p.zoom;
  const cc = (s * w * f) / p.zoom, d = (c * h) / p.zoom;
  // The content moves by `shift`, so the window moves the other way.
  const cx = left + w / 2 - p.shift[0] * w, cy = top + h / 2 - p.shift[1] * h;
  const k = (t - 1) / (2 * t);
  return [
    a / t,
    b / t,
    cx - 0.5 - (a + b) * k,
    cc / t,
    d / t,
    cy - 0.5 - (cc + d) * k,
    0,
    0,
  ];
}

const _RGB2YIQ = [
  [0.299, 0.587, 0.114],
  [0.596, -0.274, -0.322],
  [0.211, -0.523, 0.312],
];

function _inv3(m: number[][]): number[][] {
  const [[a, b, c], [d, e, f], [g, h, i]] = m;
  const A = e * i - f * h, B = -(d * i - f * g), C = d * h - e * g;
  const det = a * A + b * B + c * C;
  return [
    [A / det, -(b * i - c * h) / det, (b * f - c * e) / det],
    [B / det, (a * i - c * g) / det, -(a * f - c * d) / det],
    [C / det, -(a * h - b * g) / det, (a * e - b * d) / det],
  ];
}
const _YIQ2RGB = _inv3(_RGB2YIQ);

/** @returns the 3x3 RGB matrix (row-major, applied as rgb' = M rgb) turning hue by `turns` */
export function hueMatrix(turns: number): number[][] {
  const th = 2 * Math.PI * turns;
  const r = [[1, 0, 0], [0, Math.cos(th), -Math.sin(th)], [0, Math.sin(th), Math.cos(th)]];
  const mul = (x: number[][], y: number[][]) =>
    x.map((row) => [0, 1, 2].map((j) => row.reduce((s, v, k) => s + v * y[k][j], 0)));
  return mul(_YIQ2RGB, mul(r, _RGB2YIQ));
}

/** ITU-R 601 luma weights, as torchvision's `rgb_to_grayscale`. */
const _LUMA = [0.299, 0.587, 0.114];

function _gray(x: Tensor4D): Tensor4D {
  return tf.sum(tf.mul(x, tf.tensor1d(_LUMA)), 3, true) as Tensor4D; // [B, H, W, 1]
}

/**
 * The luma of `x` in all three channels, `[B, H, W, 3]`, as one `[BHW, 3] x [3, 3]` product:
 * `tf.tile` of the one-channel luma is a scalar index loop on WASM (109 ms against 8 ms for a
 * batch of 128 at 48 px, measured here). The product sums the three terms in the same order as
 * `tf.sum`, so the values are the same bits (checked on WASM).
 */
function _grayRgb(x: Tensor4D): Tensor4D {
  const l = _LUMA.flatMap((w) => [w, w, w]); // row i: weight of input channel i, 3 times
  const flat = tf.reshape(x, [-1, 3]);
  return tf.reshape(tf.matMul(flat, tf.tensor2d(l, [3, 3])), x.shape) as Tensor4D;
}

function _perImage(values: number[]): Tensor4D {
  return tf.tensor4d(values, [values.length, 1, 1, 1]);
}

/**
 * Applies per-image augmentations, resizing to `outSize`, and normalises.
 *
 * @param images `[B, S, S, 3]` float32 in [0, 1]
 * @param params one per image (from {@link drawAugmentParams})
 * @param arch the model's input: `inputSize` (the output side) and `inputNorm`
 * @returns `[B, inputSize, inputSize, 3]`, normalised as {@link normalizeInput}
 */
export function augmentBatch(
  images: Tensor4D,
  params: AugmentParams[],
  arch: Pick<ArchConfig, "inputSize" | "inputNorm">,
): Tensor4D {
  const opts = { outSize: arch.inputSize };
  return tf.tidy(() => {
    const n = images.shape[0];
    const transforms = tf.tensor2d(params.flatMap((p) => affineTransform(p, opts.outSize)), [n, 8]);
    let x = tf.image.transform(images, transforms, "bilinear", "nearest", 0, [
      opts.outSize,
      opts.outSize,
    ]); // [B, T, T, 3]
    const clip = (t: Tensor4D) => tf.clipByValue(t, 0, 1) as Tensor4D;
    if (params.some((p) => p.brightness !== 1)) {
      x = clip(tf.mul(x, _perImage(params.map((p) => p.brightness))));
    }
    if (params.some((p) => p.contrast !== 1)) {
      const m = tf.mean(_gray(x), [1, 2, 3], true); // [B, 1, 1, 1]
      const c = _perImage(params.map((p) => p.contrast));
      x = clip(tf.add(tf.mul(tf.sub(x, m), c), m));
    }
    if (params.some((p) => p.saturation !== 1)) {
      const g = _gray(x);
      x = clip(tf.add(tf.mul(tf.sub(x, g), _perImage(params.map((p) => p.saturation))), g));
    }
    if (params.some((p) => p.hue !== 0)) {
      // rgb' = M rgb per image: [B, HW, 3] x [B, 3, 3] with M transposed.
      const mt = params.flatMap((p) => {
        const m = hueMatrix(p.hue);
        return [0, 1, 2].flatMap((i) => [0, 1, 2].map((j) => m[j][i]));
      });
      const t = opts.outSize;
      const flat = tf.reshape(x, [n, t * t, 3]);
      x = clip(tf.reshape(tf.matMul(flat, tf.tensor3d(mt, [n, 3, 3])), [n, t, t, 3]));
    }
    if (params.some((p) => p.grayscale)) {
      const g = _grayRgb(x);
      const k = _perImage(params.map((p) => (p.grayscale ? 1 : 0)));
      x = tf.add(tf.mul(g, k), tf.mul(x, tf.sub(1, k)));
    }
    if (params.some((p) => p.blurSigma > 0)) x = blur3(x, params.map((p) => p.blurSigma));
    if (params.some((p) => p.randConv > 0)) x = _randConv(x, params);
    return normalizeInput(x, arch.inputNorm);
  });
}

/**
 * The network's input normalisation, the same in training and at test time:
 * - `imagenet`: subtract the ImageNet channel means, divide by their standard deviations (the
 *   recipe's);
 * - `image`: standardise each image by its own mean and standard deviation over all pixels and
 *   channels (contrast normalisation: a photo's exposure and contrast stop mattering; the
 *   colour balance within the image is kept);
 * - `gray`: luma only (replicated to three channels), then standardised per image.
 *
 * @param x `[B, S, S, 3]` float32 in [0, 1]
 * @param norm which normalisation
 * @returns `[B, S, S, 3]` normalised
 */
export function normalizeInput(x: Tensor4D, norm: ArchConfig["inputNorm"]): Tensor4D {
  return tf.tidy(() => {
    if (norm === "imagenet") {
      return tf.div(
        tf.sub(x, tf.tensor1d([...IMAGENET_MEAN])),
        tf.tensor1d([...IMAGENET_STD]),
      ) as Tensor4D;
    }
    const t = norm === "gray" ? _grayRgb(x) : x;
    const { mean, variance } = tf.moments(t, [1, 2, 3], true); // [B, 1, 1, 1]
    return tf.div(tf.sub(t, mean), tf.add(tf.sqrt(variance), 1e-3)) as Tensor4D;
  });
}

/**
 * RandConv: each image filtered by its own random 3 -> 3 channel convolution (reflect-padded),
 * rescaled to the image's own mean and standard deviation, then mixed in with weight
 * `randConv`. Texture and colour change, shapes stay: a style randomisation that needs no
 * target images. All images are filtered in one depthwise convolution (the batch folded into
 * channels, three outputs per input channel, summed per image); images with weight 0 are kept.
 *
 * @param x `[B, S, S, 3]` in [0, 1] @param params the images' parameters
 * @returns `[B, S, S, 3]` in [0, 1]
 */
function _randConv(x: Tensor4D, params: AugmentParams[]): Tensor4D {
  const [n, h, w] = x.shape, k = RAND_CONV_SIDE, r = (k - 1) / 2;
  // Depthwise filter [k, k, 3n, 3]: input channel (b, i), output o = W_b[:, :, i, o].
  const f = new Float32Array(k * k * 3 * n * 3);
  params.forEach((p, b) => {
    if (p.randConv === 0) return;
    for (let t = 0; t < k * k; t++) {
      for (let i = 0; i < 3; i++) {
        for (let o = 0; o < 3; o++) {
          f[(t * 3 * n + b * 3 + i) * 3 + o] = p.randConvFilter[(t * 3 + i) * 3 + o];
        }
      }
    }
  });
  const folded = tf.reshape(tf.transpose(x, [1, 2, 0, 3]), [1, h, w, n * 3]); // [1, H, W, 3B]
  const padded = tf.mirrorPad(folded, [[0, 0], [r, r], [r, r], [0, 0]], "reflect");
  const filtered = tf.depthwiseConv2d(
    padded as Tensor4D,
    tf.tensor4d(f, [k, k, n * 3, 3]),
    1,
    "valid",
  ); // [1, H, W, 3B * 3]: channel (b, i, o)
  const y = tf.transpose(tf.sum(tf.reshape(filtered, [h, w, n, 3, 3]), 3), [
    2,
    0,
    1,
    3,
  ]) as Tensor4D;
  const mx = tf.moments(x, [1, 2, 3], true), my = tf.moments(y, [1, 2, 3], true);
  const matched = tf.add(
    tf.mul(tf.div(tf.sub(y, my.mean), tf.add(tf.sqrt(my.variance), 1e-4)), tf.sqrt(mx.variance)),
    mx.mean,
  );
  const a = _perImage(params.map((p) => p.randConv));
  return tf.clipByValue(tf.add(tf.mul(x, tf.sub(1, a)), tf.mul(matched, a)), 0, 1) as Tensor4D;
}

/**
 * 3x3 Gaussian blur with a per-image sigma (0 = identity), reflect-padded. The separable 1-D
 * kernel is [a, 1, a] / (1 + 2a) with a = exp(-1 / (2 sigma^2)), so the 2-D weights are the
 * centre c^2, the four edges c a, the four corners a^2 (c = 1 / (1 + 2a), a scaled by c). On
 * WASM one kernel computes the same operations (`ByelBlur3`, `wasm_augment.ts`): there, each
 * of the eight slices below is a scalar index loop (37 ms for 128 images at 48 px).
 *
 * @param x `[B, H, W, 3]`, H and W at least 2 @param sigmas one per image
 * @returns `[B, H, W, 3]`
 */
export function blur3(x: Tensor4D, sigmas: number[]): Tensor4D {
  const [n, h, w] = x.shape;
  const wc: number[] = [], we: number[] = [], wk: number[] = [];
  for (const s of sigmas) {
    const a = s > 0 ? Math.exp(-1 / (2 * s * s)) : 0;
    const z = 1 + 2 * a;
    wc.push(1 / (z * z));
    we.push(a / (z * z));
    wk.push((a * a) / (z * z));
  }
  if (wasmBlurAvailable(x)) {
    const [c, e, k] = [wc, we, wk].map((v) => tf.tensor1d(v));
    return tf.engine().runKernel("ByelBlur3", { x, wc: c, we: e, wk: k }) as Tensor4D;
  }
  const pad = tf.mirrorPad(x, [[0, 0], [1, 1], [1, 1], [0, 0]], "reflect");
  const at = (dy: number, dx: number) => tf.slice(pad, [0, 1 + dy, 1 + dx, 0], [n, h, w, 3]);
  const edges = tf.addN([at(-1, 0), at(1, 0), at(0, -1), at(0, 1)]);
  const corners = tf.addN([at(-1, -1), at(-1, 1), at(1, -1), at(1, 1)]);
  return tf.addN([
    tf.mul(x, _perImage(wc)),
    tf.mul(edges, _perImage(we)),
    tf.mul(corners, _perImage(wk)),
  ]) as Tensor4D;
}

/**
 * Evaluation preprocessing: resize (bilinear) to the model's input size when needed, then
 * normalise as in training.
 *
 * @param images `[B, S, S, 3]` float32 in [0, 1]
 * @param arch the model's `inputSize` and `inputNorm`
 * @returns `[B, inputSize, inputSize, 3]` normalised
 */
export function prepareImages(
  images: Tensor4D,
  arch: Pick<ArchConfig, "inputSize" | "inputNorm">,
): Tensor4D {
  return tf.tidy(() => {
    const size = arch.inputSize;
    const x = images.shape[1] === size && images.shape[2] === size
      ? images
      : tf.image.resizeBilinear(images, [size, size], false, true);
    return normalizeInput(x, arch.inputNorm);
  });
}
