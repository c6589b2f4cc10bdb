/** Rendered faces with known landmarks, and images made of them, for the face-stage tests. */
import { CANONICAL } from "../../src/face/canonical.ts";
import { type Affine, invertAffine, type Point, warpAffine } from "../../src/face/warp.ts";
import { makeIdentity } from "../../src/data/synth/identity.ts";
import { sampleExpression } from "../../src/data/synth/expressions.ts";
import { sampleCapture } from "../../src/data/synth/capture.ts";
import { renderFace } from "../../src/data/synth/render.ts";
import { EMOTIONS } from "../../src/emotions.ts";

/** A float RGB image. */
export interface Img {
  width: number;
  height: number;
  data: Float32Array;
}

/**
 * Face `k` rendered frontally with no misalignment: its eye centres are on the canonical eye
 * line, symmetric about the middle.
 *
 * @returns the image and where the eye line's midpoint is
 */
export function frontalFace(k: number, size = 128): { img: Img; eyeMid: Point } {
  const cap = {
    ...sampleCapture("synthetic", 11, k),
    scale: 1,
    rotation: 0,
    shiftX: 0,
    shiftY: 0,
    yaw: 0,
    pitch: 0,
    occluder: 0,
    blur: 0.2,
    noise: 0.005,
    gray: false,
  };
  const data = new Float32Array(size * size * 3);
  renderFace(data, {
    size,
    identity: makeIdentity(11, k),
    expression: sampleExpression(EMOTIONS[k % 6], 11, k),
    capture: cap,
  });
  return { img: { width: size, height: size, data }, eyeMid: [size / 2, CANONICAL.eyeY * size] };
}

/**
 * Places `src` in a `w x h` canvas of grey through `toSrc` (canvas pixel -> source pixel).
 *
 * @returns the canvas
 */
export function place(src: Img, toSrc: Affine, w: number, h: number): Img {
  return { width: w, height: h, data: warpAffine(src, toSrc, w, h, { border: [0.5, 0.5, 0.5] }) };
}

/** @returns the similarity map canvas -> source that shows `src` rotated by `deg`, scaled by `k` and centred at (cx, cy) */
export function similarity(
  src: Img,
  opts: { deg: number; k: number; cx: number; cy: number },
): Affine {
  const t = (opts.deg * Math.PI) / 180, c = Math.cos(t) / opts.k, s = Math.sin(t) / opts.k;
  // source = R(-t)/k * (canvas - centre) + source centre
  const sx = src.width / 2, sy = src.height / 2;
  return [c, s, sx - c * opts.cx - s * opts.cy, -s, c, sy + s * opts.cx - c * opts.cy];
}

export { invertAffine };
