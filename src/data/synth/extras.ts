/**
 * What is not the face itself: glasses, and occluders in front of the face (a hand, a bar-like
 * object, strands of hair).
 *
 * @module
 */
import type { Identity, Rgb } from "./identity.ts";
import type { Capture } from "./capture.ts";
import type { Canvas } from "./canvas.ts";

/** Glasses: two rims, a bridge, the arms towards the ears, and slightly tinted lenses. */
export function paintGlasses(c: Canvas, id: Identity): void {
  const col = id.glassesColor;
  const w = id.glasses === 1 ? 0.012 : 0.025;
  const ru = id.eyeW * 1.55, rv = id.eyeW * 1.1;
  for (const sg of [-1, 1]) {
    const cu = sg * id.eyeSep * 1.02;
    c.paintEllipse(cu, 0.01, ru, rv, [0.85, 0.9, 0.95], 0.1);
    c.paintEllipse(cu, 0.01, ru, rv, col, 0.95, w, 0.02);
    c.paintStroke(
      cu + sg * ru * 0.95,
      -0.02,
      sg * id.faceW * 1.02,
      -0.04,
      w * 0.7,
      w * 0.7,
      col,
      0.9,
    );
  }
  c.paintStroke(
    -id.eyeSep * 1.02 + ru * 0.95,
    -0.03,
    id.eyeSep * 1.02 - ru * 0.95,
    -0.03,
    w * 0.7,
    w * 0.7,
    col,
    0.95,
    0.02,
  );
}

/** Something in front of the face: a hand, a bar-like object or strands of hair. */
export function paintOccluder(c: Canvas, id: Identity, cap: Capture): void {
  const { occU: u, occV: v, occR: r, occAngle: ang } = cap;
  if (cap.occluder === 1) {
    // A hand: a palm and four fingers pointing up-ish, in the person's skin tone.
    const skin: Rgb = [id.skin[0] * 0.95, id.skin[1] * 0.92, id.skin[2] * 0.92];
    const pu = u, pv = Math.max(v, 0.55) + 0.25;
    c.paintEllipse(pu, pv, r * 0.9, r * 0.8, skin, 1, 0, 0.15);
    for (let i = 0; i < 4; i++) {
      const fu = pu + (i - 1.5) * r * 0.45;
      c.paintStroke(
        fu,
        pv - r * 0.4,
        fu + (i - 1.5) * 0.03,
        pv - r * 0.4 - r * (1.1 - 0.15 * Math.abs(i - 1.5)),
        r * 0.2,
        r * 0.17,
        skin,
        1,
        0.12,
      );
    }
  } else if (cap.occluder === 2) {
    const du = Math.cos(ang) * 0.7, dv = Math.sin(ang) * 0.7;
    c.paintStroke(u - du, v - dv, u + du, v + dv, r * 0.35, r * 0.35, cap.occColor, 1, 0.1);
  } else {
    const col: Rgb = [id.hair[0] * 0.9, id.hair[1] * 0.9, id.hair[2] * 0.9];
    for (let i = 0; i < 5; i++) {
      const x0 = u + (i - 2) * 0.03;
      c.paintCurve(
        x0,
        -0.9,
        x0 + 0.1 * Math.cos(ang + i),
        -0.3,
        x0 + 0.2 * Math.cos(ang * 2 + i),
        0.3 * v,
        0.012,
        0.006,
        col,
        0.85,
        0,
        4,
      );
    }
  }
}
