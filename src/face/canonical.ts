/**
 * The canonical face frame, the one definition shared by the real-photo aligner
 * (`align.ts`) and the synthetic-face renderer (`src/data/synth/canvas.ts`), so the faces that
 * train and the faces that are tested are framed alike.
 *
 * @module
 */

/**
 * Canonical aligned-crop geometry, as fractions of the crop side (x right, y down): the median
 * FaceMesh geometry of the FER2013-public crops (2,747 of 2,982 found; eyeY 0.394, eyeDist 0.361,
 * mouthY 0.758, mouthW 0.290, noseY 0.621), which also matches the project's synthetic faces
 * measured the same way (eyeY 0.369, eyeDist 0.360, mouthY 0.740). A FER-like crop therefore
 * maps almost onto itself, and the fallback (whole image) is consistent with aligned crops.
 */
export const CANONICAL = {
  /** Eye line height (eye centres = eye-corner midpoints). */
  eyeY: 0.39,
  /** Distance between the eye centres. */
  eyeDist: 0.36,
  /** Height of the mouth-corner midpoint (eye-to-mouth = 0.365). */
  mouthY: 0.755,
  /** Used only for the fallback's landmarks. */
  mouthW: 0.29,
  noseY: 0.62,
} as const;

/**
 * The scale of the canonical crop: the geometric mean of the inter-ocular and the eye-to-mouth
 * ratios (each ratio kept within 1.6x of the other, so a bad mouth point or a turned head
 * cannot zoom far), which keeps the face's height steadier than the eyes alone (forehead-to-chin
 * height in the aligned crop, coefficient of variation, eyes only / both: FER2013 0.115 / 0.067,
 * tcce 0.054 / 0.040, the synthetic faces 0.056 / 0.042).
 *
 * @param iod distance between the eye centres, in source units
 * @param eyeToMouth distance from the eye line to the mouth-corner midpoint, source units
 * @param size crop side in pixels
 * @param frame the canonical geometry @default CANONICAL
 * @returns source units per crop pixel
 */
export function canonicalScale(
  iod: number,
  eyeToMouth: number,
  size: number,
  frame: { eyeDist: number; eyeY: number; mouthY: number } = CANONICAL,
): number {
  const rIod = iod / (frame.eyeDist * size);
  if (!(eyeToMouth > 0)) return rIod;
  const rEm = eyeToMouth / ((frame.mouthY - frame.eyeY) * size);
  return Math.sqrt(rIod * Math.min(rIod * 1.6, Math.max(rIod / 1.6, rEm)));
}
