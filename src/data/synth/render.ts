/**
 * The face renderer: a 2.5D height field lit with a Lambertian model. Every part of the face
 * (skull and jaw ellipsoid, brow ridge, eye sockets and eyeballs, nose, cheeks, lips, chin) and
 * every action unit (brow furrows, cheek bulges, nasolabial folds, nose wrinkles, chin raise,
 * lid tightening) is a change of height, so it makes its own shading and shadows under any
 * light; colour (skin, lips, eyes, teeth, brows, hair, glasses) is painted into an albedo map
 * with analytic anti-aliasing. Finally the camera (capture.ts) blurs, tints and adds noise.
 *
 * The parts, in drawing order: `canvas.ts` (the raster and its primitives), `geometry.ts` (the
 * face's layout under the expression), `head.ts`, `relief.ts`, `mouth.ts`, `eyes.ts`,
 * `extras.ts` (glasses, occluders), `shading.ts`, then `capture.ts`'s camera.
 *
 * @module
 */
import type { ActionUnits } from "./expressions.ts";
import type { Identity } from "./identity.ts";
import { applyCamera, type Capture } from "./capture.ts";
import { canvasFor } from "./canvas.ts";
import { paintBrows, paintEye } from "./eyes.ts";
import { paintGlasses, paintOccluder } from "./extras.ts";
import { faceGeometry } from "./geometry.ts";
import { paintBeard, paintHead } from "./head.ts";
import { paintMouth } from "./mouth.ts";
import { shapeRelief } from "./relief.ts";
import { shade } from "./shading.ts";

/** Smallest and largest supported image side. */
export const MIN_SIZE = 32;
export const MAX_SIZE = 224;

/** What to render and where: one face of {@link renderFace}. */
export interface RenderOptions {
  /** Image side, {@link MIN_SIZE} .. {@link MAX_SIZE}. */
  size: number;
  /** The person. */
  identity: Identity;
  /** The expression. */
  expression: ActionUnits;
  /** The capture (framing, light, camera). */
  capture: Capture;
  /** Index of the first float to write in `out`. @default 0 */
  offset?: number;
}

/**
 * Renders one face into `out` (RGB, `[size, size, 3]` float32 in [0, 1]) at `offset`.
 *
 * @param out destination, e.g. a batch's `images`
 * @param opts size, identity, expression, capture and offset
 * @example
 * ```ts
 * const img = new Float32Array(64 * 64 * 3);
 * renderFace(img, {
 *   size: 64,
 *   identity: makeIdentity(1, 7),
 *   expression: sampleExpression("happiness", 1, 0),
 *   capture: sampleCapture("synthetic", 1, 0),
 * });
 * ```
 */
export function renderFace(out: Float32Array, opts: RenderOptions): void {
  const { size, identity: id, expression: aus, capture: cap, offset = 0 } = opts;
  // Small images are rendered at twice the size and averaged down (supersampling).
  const f = size < 64 ? 2 : 1;
  const n = size * f;
  const c = canvasFor(n);
  const g = faceGeometry(id, aus);
  c.pose(cap, { iod: 2 * id.eyeSep, eyeToMouth: g.mouthY + g.cornerDY });
  paintHead(c, id, aus, g, cap);
  if (id.beard) paintBeard(c, id, g);
  shapeRelief(c, id, aus, g);
  paintMouth(c, id, aus, g);
  for (const side of [-1, 1]) paintEye(c, id, aus, cap, side);
  paintBrows(c, id, aus);
  if (id.glasses) paintGlasses(c, id);
  if (cap.occluder) paintOccluder(c, id, cap);
  shade(c, cap);
  applyCamera(c.rgb, n, cap, f);
  const rgb = c.rgb;
  if (f === 1) {
    out.set(rgb, offset);
    return;
  }
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const p = (2 * y * n + 2 * x) * 3, q = p + n * 3, o = offset + (y * size + x) * 3;
      out[o] = 0.25 * (rgb[p] + rgb[p + 3] + rgb[q] + rgb[q + 3]);
      out[o + 1] = 0.25 * (rgb[p + 1] + rgb[p + 4] + rgb[q + 1] + rgb[q + 4]);
      out[o + 2] = 0.25 * (rgb[p + 2] + rgb[p + 5] + rgb[q + 2] + rgb[q + 5]);
    }
  }
}
