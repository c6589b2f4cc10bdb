/**
 * The canonical aligned crop: one similarity transform per face puts the eyes level at fixed
 * positions and scales the face by its inter-ocular and eye-to-mouth distances, so every face
 * that reaches the classifier (real photos and the synthetic training faces alike) is framed
 * the same way. {@link CANONICAL} is the one place that defines that frame.
 *
 * @module
 */
import { CANONICAL, canonicalScale } from "./canonical.ts";
import type { FaceLandmarks } from "./detect.ts";

export { CANONICAL };
import { type Affine, midpoint, type Point, type RgbInput, unitScale, warpAffine } from "./warp.ts";

/**
 * Landmarks for an image that is taken to be a tight face crop already (the fallback): the
 * canonical positions inside the centred square of the image.
 */
export function canonicalLandmarks(width: number, height: number): FaceLandmarks {
  const side = Math.min(width, height), x0 = (width - side) / 2, y0 = (height - side) / 2;
  const C = CANONICAL, p = (x: number, y: number): Point => [x0 + x * side, y0 + y * side];
  const mw = C.mouthW;
  return {
    leftEye: p(0.5 - C.eyeDist / 2, C.eyeY),
    rightEye: p(0.5 + C.eyeDist / 2, C.eyeY),
    nose: p(0.5, C.noseY),
    mouthLeft: p(0.5 - mw / 2, C.mouthY),
    mouthRight: p(0.5 + mw / 2, C.mouthY),
  };
}

/** Options of {@link alignFace}. */
export interface AlignOptions {
  /**
   * How the scale is set: "eyes" (inter-ocular distance only), "eyes+mouth" (geometric mean of
   * the inter-ocular and eye-to-mouth ratios) or "max" (the larger ratio). Forehead-to-chin
   * height in the aligned crop, coefficient of variation, eyes / eyes+mouth / max: FER2013
   * 0.115 / 0.067 / 0.064, tcce 0.054 / 0.040 / 0.050, synthetic 0.056 / 0.042 / 0.044.
   * @default "eyes+mouth"
   */
  scaleFrom?: "eyes" | "eyes+mouth" | "max";
  /** Output greyscale (luma replicated to 3 channels). @default false */
  gray?: boolean;
  /** Canonical geometry (fractions of the crop side). @default CANONICAL */
  canonical?: { eyeY: number; eyeDist: number; mouthY: number };
}

/**
 * The similarity map (crop -> source) that puts the eyes level, the eye midpoint at
 * (0.5, eyeY) * size, and scales by the inter-ocular and eye-to-mouth distances.
 */
export function alignmentAffine(lm: FaceLandmarks, size: number, opts: AlignOptions = {}): Affine {
  const C = opts.canonical ?? CANONICAL;
  const le = lm.leftEye, re = lm.rightEye;
  const em = midpoint(le, re), mm = midpoint(lm.mouthLeft, lm.mouthRight);
  const dx = re[0] - le[0], dy = re[1] - le[1];
  const phi = Math.atan2(dy, dx);
  const iod = Math.hypot(dx, dy);
  // eye-to-mouth distance measured perpendicular to the eye line
  const c = Math.cos(phi), s = Math.sin(phi);
  const em2m = -s * (mm[0] - em[0]) + c * (mm[1] - em[1]);
  const rIod = iod / (C.eyeDist * size);
  const rEm = em2m / ((C.mouthY - C.eyeY) * size);
  const mode = opts.scaleFrom ?? "eyes+mouth";
  let k = rIod; // source pixels per crop pixel
  if (mode === "eyes+mouth") k = canonicalScale(iod, em2m, size, C);
  else if (mode === "max" && rEm > 0) {
    // foreshortening only shrinks a distance (yaw: eyes, pitch: eye-to-mouth), so the larger
    // ratio is the better face size; capped at 1.6x the other (bad mouth points)
    k = Math.min(Math.max(rIod, rEm), 1.6 * Math.min(rIod, rEm));
  }
  const cs = c * k, sn = s * k;
  const ox = 0.5 * size, oy = C.eyeY * size;
  // src = em + R(phi) * k * (dst - (ox, oy))
  return [cs, -sn, em[0] - cs * ox + sn * oy, sn, cs, em[1] - sn * ox - cs * oy];
}

/**
 * Warps the face to the canonical `size` x `size` crop.
 *
 * @returns float32 RGB in [0, 1] and the crop -> source map
 */
export function alignFace(
  img: RgbInput,
  lm: FaceLandmarks,
  size: number,
  opts: AlignOptions = {},
): { width: number; height: number; data: Float32Array; toSrc: Affine } {
  const m = alignmentAffine(lm, size, opts);
  const data = warpAffine(img, m, size, size, { scale: unitScale(img) });
  if (opts.gray) {
    for (let i = 0; i < data.length; i += 3) {
      const y = 0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2];
      data[i] = data[i + 1] = data[i + 2] = y;
    }
  }
  return { width: size, height: size, data, toSrc: m };
}
