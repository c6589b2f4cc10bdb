/**
 * How the picture is taken: framing (scale, shift, in-plane rotation, small yaw and pitch),
 * lighting, background, occluders, and the camera's defects (blur, sensor noise, JPEG-like
 * blocking, colour balance, grayscale). Sampled per image; the randomisation is deliberately
 * strong because it is what lets a model trained on these faces read real photographs.
 *
 * @module
 */
import type { Rgb } from "./identity.ts";
import { DOMAIN_SPECS, type DomainName } from "./domains.ts";
import { hashStep, Rng, STREAM } from "../../rng.ts";

/** Capture settings of one image. */
export interface Capture {
  /** Misalignment of the canonical framing: scale (1 = exact). */
  scale: number;
  /** Misalignment: in-plane rotation, radians (0 = eyes level). */
  rotation: number;
  /** Misalignment: shift of the face, as fractions of the image side. */
  shiftX: number;
  shiftY: number;
  /** Head turn and nod, radians. */
  yaw: number;
  pitch: number;
  /** Unit vector towards the key light (x right, y down, z towards the camera). */
  light: [number, number, number];
  /** Ambient (fill) level, diffuse level and specular strength. */
  ambient: number;
  /** Light wrapping round the terminator (soft, skin-like falloff), 0 .. 0.5. */
  wrap: number;
  diffuse: number;
  specular: number;
  /** Ambient-occlusion strength (cavity darkening). */
  occlusion: number;
  lightColor: Rgb;
  /** Background colours at the two ends of a gradient at `bgAngle`, and blotchiness. */
  bg0: Rgb;
  bg1: Rgb;
  bgAngle: number;
  bgNoise: number;
  /** Gaze offset of the irises, in eye half-widths. */
  gazeX: number;
  gazeY: number;
  /** Fine skin texture (pores) and blotch amplitudes. */
  pores: number;
  blotch: number;
  /** Occluder: 0 none, 1 hand, 2 object bar, 3 hair strands. */
  occluder: number;
  /** Occluder position/size (face units), angle and colour. */
  occU: number;
  occV: number;
  occR: number;
  occAngle: number;
  occColor: Rgb;
  /** Gaussian blur sigma, in pixels of a 64 px image (scaled with the image size). */
  blur: number;
  /** Sensor noise standard deviation (luminance) and extra chroma noise. */
  noise: number;
  chromaNoise: number;
  /** JPEG-like block quantisation step (0: off). */
  jpeg: number;
  /** Grayscale output. */
  gray: boolean;
  /**
   * Tone curve: out = ((x * gain - 0.5) * contrast + 0.5) ^ gamma, where the gain brings the
   * image centre's mean to 0.42 * exposure (auto-exposure).
   */
  exposure: number;
  contrast: number;
  gamma: number;
  saturation: number;
  /** White-balance multipliers. */
  wb: Rgb;
  /** Vignetting strength. */
  vignette: number;
  /** Seed of this image's pixel noise. */
  noiseSeed: number;
}

function _clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

/**
 * Draws the capture of image `index` of `(seed, domain)`.
 *
 * @param domain the domain (the `real` one is photographic: pores, chroma noise, JPEG, occluders)
 * @param seed dataset seed
 * @param index image index
 * @returns the capture settings, a pure function of the arguments
 */
export function sampleCapture(domain: DomainName, seed: number, index: number): Capture {
  const spec = DOMAIN_SPECS[domain];
  const k = spec.strength;
  const photo = spec.photographic;
  const r = new Rng(seed, STREAM.capture, index, photo ? 1 : 0);
  // Key light: mostly from the front and above, sometimes hard from a side.
  const az = r.uniform(-Math.PI, Math.PI);
  const side = r.chance(0.25) ? r.uniform(0.5, 0.9) : r.uniform(0.05, 0.55) * k;
  let lx = Math.cos(az) * side, ly = Math.sin(az) * side * 0.7 - r.uniform(0, 0.35);
  let lz = Math.sqrt(Math.max(0.05, 1 - lx * lx - ly * ly));
  const ln = Math.hypot(lx, ly, lz);
  lx /= ln, ly /= ln, lz /= ln;
  const warm = r.uniform(-0.12, 0.12) * k * (photo ? 1.5 : 1);
  const bgBase = r.next();
  const bgSat = r.uniform(0, 0.3);
  const bgCol = (): Rgb => {
    const l = _clamp01(bgBase + r.uniform(-0.25, 0.25));
    return [
      _clamp01(l + r.uniform(-bgSat, bgSat)),
      _clamp01(l + r.uniform(-bgSat, bgSat)),
      _clamp01(l + r.uniform(-bgSat, bgSat)),
    ];
  };
  const occP = photo ? 0.35 : 0.1;
  const occluder = r.chance(occP) ? 1 + r.int(3) : 0;
  const blurBig = r.chance(photo ? 0.35 : 0.25);
  return {
    // As a face aligned from landmarks found in a photo: FaceMesh's eye centres are off by
    // ~3% of the inter-ocular distance and its mouth corners by ~6% (measured on these faces),
    // which turns into these errors of the aligned frame.
    scale: 1 + r.normal(0, 0.04 * k),
    rotation: r.normal(0, 0.035 * k),
    shiftX: r.normal(0, 0.012 * k),
    shiftY: r.normal(0, 0.015 * k),
    yaw: r.normal(0, (photo ? 0.17 : 0.12) * k),
    pitch: r.normal(0, 0.08 * k),
    light: [lx, ly, lz],
    ambient: r.uniform(0.2, 0.55),
    wrap: r.uniform(0, 0.5),
    diffuse: r.uniform(0.55, 0.95),
    specular: r.uniform(0, photo ? 0.2 : 0.12),
    occlusion: r.uniform(0.3, 1.5),
    lightColor: [1 + warm, 1, 1 - warm],
    bg0: bgCol(),
    bg1: bgCol(),
    bgAngle: r.uniform(0, Math.PI * 2),
    bgNoise: r.uniform(0, photo ? 0.25 : 0.15),
    gazeX: r.normal(0, 0.12),
    gazeY: r.normal(0, 0.06),
    pores: photo ? r.uniform(0.02, 0.05) : r.uniform(0, 0.015),
    blotch: r.uniform(0.02, photo ? 0.1 : 0.07),
    occluder,
    occU: r.uniform(-0.5, 0.5),
    occV: r.uniform(-0.2, 1.0),
    occR: r.uniform(0.15, 0.35),
    occAngle: r.uniform(0, Math.PI),
    occColor: [r.next(), r.next(), r.next()],
    blur: blurBig ? r.uniform(0.5, 1.2) : r.uniform(0, 0.5),
    noise: photo ? r.uniform(0.01, 0.04) : r.uniform(0, 0.02) * k,
    chromaNoise: photo ? r.uniform(0.01, 0.04) : r.uniform(0, 0.015),
    jpeg: photo ? r.uniform(0.02, 0.08) : (r.chance(0.3) ? r.uniform(0.01, 0.05) : 0),
    gray: r.chance(photo ? 0.35 : 0.3),
    exposure: r.uniform(0.8, 1.25) * (1 + r.normal(0, 0.06) * k),
    contrast: r.uniform(0.75, 1.3),
    gamma: r.uniform(0.8, 1.25),
    saturation: r.uniform(0.5, 1.25),
    wb: [1 + r.normal(0, 0.04) * k, 1, 1 + r.normal(0, 0.05) * k],
    vignette: r.uniform(0, photo ? 0.35 : 0.2),
    noiseSeed: r.u32(),
  };
}

const _gammaLut = new Float32Array(258);

function _curve(lut: Float32Array, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const f = x * 256, i = f | 0;
  return lut[i] + (lut[i + 1] - lut[i]) * (f - i);
}

/** Scratch for {@link applyCamera}, reused between images of one size. */
const _scratch = new Map<number, Float32Array>();

const _kernel = new Float32Array(16);

/** Separable Gaussian blur of an interleaved RGB image, edges clamped. */
function _blurRgb(img: Float32Array, n: number, sigma: number): void {
  if (sigma < 0.2) return;
  const k = _kernel;
  let r: number;
  if (sigma <= 0.75) {
    // Small blurs (most images): one 3-tap kernel of the same variance.
    r = 1;
    k[1] = (sigma * sigma) / 2;
    k[0] = 1 - 2 * k[1];
  } else {
    r = Math.min(7, Math.ceil(sigma * 2.2));
    let sum = 0;
    for (let i = 0; i <= r; i++) {
      sum += (k[i] = Math.exp(-(i * i) / (2 * sigma * sigma))) * (i ? 2 : 1);
    }
    for (let i = 0; i <= r; i++) k[i] /= sum;
  }
  let tmp = _scratch.get(n);
  if (!tmp) _scratch.set(n, tmp = new Float32Array(n * n * 3));
  const stride = n * 3;
  // horizontal: img -> tmp
  for (let y = 0; y < n; y++) {
    const row = y * stride;
    for (let x = 0; x < n; x++) {
      const p = row + x * 3;
      let a0 = img[p] * k[0], a1 = img[p + 1] * k[0], a2 = img[p + 2] * k[0];
      for (let i = 1; i <= r; i++) {
        const l = row + (x - i < 0 ? 0 : x - i) * 3, q = row + (x + i >= n ? n - 1 : x + i) * 3;
        a0 += (img[l] + img[q]) * k[i];
        a1 += (img[l + 1] + img[q + 1]) * k[i];
        a2 += (img[l + 2] + img[q + 2]) * k[i];
      }
      tmp[p] = a0, tmp[p + 1] = a1, tmp[p + 2] = a2;
    }
  }
  // vertical: tmp -> img
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < stride; x++) {
      const p = y * stride + x;
      let a = tmp[p] * k[0];
      for (let i = 1; i <= r; i++) {
        a += (tmp[(y - i < 0 ? 0 : y - i) * stride + x] +
          tmp[(y + i >= n ? n - 1 : y + i) * stride + x]) * k[i];
      }
      img[p] = a;
    }
  }
}

/**
 * Applies the camera to a rendered image in place: blur, tone curve, white balance,
 * saturation or grayscale, vignetting, sensor noise, JPEG-like blocking, clipping to [0, 1].
 *
 * @param img `[n, n, 3]` float32 RGB, linear-ish display values
 * @param n image side
 * @param cap the capture settings
 * @param supersample pixels of `img` per output pixel (2 when `img` is supersampled)
 */
export function applyCamera(img: Float32Array, n: number, cap: Capture, supersample = 1): void {
  _blurRgb(img, n, (cap.blur * n) / 64);
  const [wr, wg, wb] = cap.wb;
  // Auto-exposure, as cameras do: the centre (the face) is brought to a mid-grey level that
  // varies with the capture's exposure setting, so no face comes out black or blown out.
  let mean = 0, cnt = 0;
  const q0 = n >> 2, q1 = n - (n >> 2);
  for (let y = q0; y < q1; y += 2) {
    for (let x = q0; x < q1; x += 2) {
      const p = (y * n + x) * 3;
      mean += 0.299 * img[p] + 0.587 * img[p + 1] + 0.114 * img[p + 2];
      cnt++;
    }
  }
  mean /= cnt;
  const e = (0.42 * cap.exposure) / Math.max(0.03, mean),
    ct = cap.contrast,
    g = cap.gamma,
    sat = cap.saturation;
  const vig = cap.vignette, half = n / 2;
  // The gamma curve through a table: Math.pow per channel would dominate the whole render.
  const lut = _gammaLut;
  for (let i = 0; i <= 256; i++) lut[i] = (i / 256) ** g;
  let h = cap.noiseSeed | 0;
  const nl = cap.noise, nc = cap.chromaNoise, gray = cap.gray;
  for (let y = 0; y < n; y++) {
    const dy = (y + 0.5 - half) / half;
    for (let x = 0; x < n; x++) {
      const p = (y * n + x) * 3;
      const dx = (x + 0.5 - half) / half;
      const vg = (1 - vig * (dx * dx + dy * dy) * 0.5) * e;
      let r = img[p] * wr * vg, gg = img[p + 1] * wg * vg, b = img[p + 2] * wb * vg;
      const l = 0.299 * r + 0.587 * gg + 0.114 * b;
      if (gray) {
        r = gg = b = l;
      } else {
        r = l + (r - l) * sat, gg = l + (gg - l) * sat, b = l + (b - l) * sat;
      }
      // Sensor noise: approximately Gaussian (sum of two uniforms), stronger in the shadows.
      h = hashStep(h);
      const u1 = ((h >>> 8) & 0xffff) / 65536 + (h >>> 24) / 256 - 1;
      h = hashStep(h);
      const nz = nl * u1 * 2.4 * (1.3 - 0.6 * l);
      if (gray) {
        r += nz, gg += nz, b += nz;
      } else {
        const c1 = (((h >>> 4) & 0xfff) / 4096 - 0.5) * nc * 3.4;
        const c2 = (((h >>> 18) & 0x3fff) / 16384 - 0.5) * nc * 3.4;
        r += nz + c1, gg += nz - 0.5 * (c1 + c2), b += nz + c2;
      }
      r = (r - 0.5) * ct + 0.5, gg = (gg - 0.5) * ct + 0.5, b = (b - 0.5) * ct + 0.5;
      img[p] = _curve(lut, r);
      img[p + 1] = _curve(lut, gg);
      img[p + 2] = _curve(lut, b);
    }
  }
  if (cap.jpeg > 0) {
    _jpegLike(img, n, cap.jpeg, 8 * supersample);
  }
}

/**
 * A cheap stand-in for JPEG: within each block, detail around the block mean is quantised
 * (blocking and ringing-free posterisation) and chroma is averaged over 2x2 pixels.
 */
function _jpegLike(img: Float32Array, n: number, q: number, block: number): void {
  for (let by = 0; by < n; by += block) {
    for (let bx = 0; bx < n; bx += block) {
      const y1 = Math.min(n, by + block), x1 = Math.min(n, bx + block);
      let m0 = 0, m1 = 0, m2 = 0, cnt = 0;
      for (let y = by; y < y1; y++) {
        for (let x = bx; x < x1; x++) {
          const p = (y * n + x) * 3;
          m0 += img[p], m1 += img[p + 1], m2 += img[p + 2], cnt++;
        }
      }
      m0 /= cnt, m1 /= cnt, m2 /= cnt;
      const mq = (m0 + m1 + m2) / 3;
      for (let y = by; y < y1; y++) {
        for (let x = bx; x < x1; x++) {
          const p = (y * n + x) * 3;
          const l = (img[p] + img[p + 1] + img[p + 2]) / 3;
          const lq = mq + Math.round((l - mq) / q) * q;
          // Chroma keeps only a blend towards the block's mean chroma.
          const cr0 = (img[p] - l) * 0.6 + (m0 - mq) * 0.4;
          const cr1 = (img[p + 1] - l) * 0.6 + (m1 - mq) * 0.4;
          const cr2 = (img[p + 2] - l) * 0.6 + (m2 - mq) * 0.4;
          img[p] = _clamp01(lq + cr0);
          img[p + 1] = _clamp01(lq + cr1);
          img[p + 2] = _clamp01(lq + cr2);
        }
      }
    }
  }
}
