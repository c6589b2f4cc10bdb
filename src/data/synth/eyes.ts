/**
 * The eyes and brows: lids, sclera, iris, pupil, catchlight, lashes and lid crease; eyebrows
 * as tapered, hairy strokes.
 *
 * @module
 */
import type { ActionUnits } from "./expressions.ts";
import type { Identity, Rgb } from "./identity.ts";
import type { Capture } from "./capture.ts";
import { type Canvas, clamp01, noise1 } from "./canvas.ts";

/** One eye: lids, sclera, iris, pupil, catchlight, lashes and the lid crease. */
export function paintEye(c: Canvas, id: Identity, a: ActionUnits, cap: Capture, sg: number): void {
  const { n, U, V, R, G, B, H, S, s } = c;
  const ew = id.eyeW, ex = sg * id.eyeSep, ey = sg * id.asym * 0.5;
  const hu = ew * id.eyeOpen *
    Math.max(
      0.08,
      1 + 0.75 * a.au5 - 0.5 * a.au7 - 0.6 * a.au43 - 0.3 * a.au6 - 0.2 * a.au4 - 0.25 * a.au9,
    );
  const hl = ew * 0.3 * Math.max(0.1, 1 - 0.6 * a.au7 - 0.55 * a.au6 + 0.25 * a.au5 - 0.3 * a.au9);
  // Sadness: the lid droops at its outer end; surprise/fear: round opening.
  const skew = 0.12 - 0.5 * a.au43 - 0.15 * a.au1 * a.au4;
  const tilt = id.eyeTilt + 0.02 * a.au6;
  const ri = id.irisR * ew, rp = ri * (0.38 + 0.12 * ((id.id & 7) / 7));
  // Drooping lids go with a lowered gaze.
  const ix = ex + cap.gazeX * ew * 0.35,
    iy = ey + cap.gazeY * ew * 0.3 + 0.1 * ri + 0.25 * a.au43 * ri;
  const [irR, irG, irB] = id.irisColor;
  const lash = 0.014 + (id.male ? 0 : 0.007);
  const crease = Math.min(0.07, hu * 0.55 + 0.02);
  const scl = 0.8 - 0.1 * id.age;
  const glx = ix - ri * 0.35 * (cap.light[0] * 0.8 + 0.4), gly = iy - ri * 0.35;
  c.box(ex - ew * 1.2, ey - hu - crease - 0.04, ex + ew * 1.2, ey + hl + 0.04);
  for (let y = c.y0; y <= c.y1; y++) {
    for (let x = c.x0, q = y * n + x; x <= c.x1; x++, q++) {
      const u = U[q], v = V[q];
      const t = (u - ex) * sg / ew, at = Math.abs(t);
      if (at > 1.2) continue;
      const tc = at > 1 ? 1 : at;
      const base = 1 - tc * tc;
      const yU = ey - hu * base * (1.15 - 0.15 * base) * (1 + skew * t) - tilt * t;
      const yL = ey + hl * base - tilt * t * 0.6;
      const side = clamp01((1 - at) * ew * s + 0.5);
      const aO = clamp01((v - yU) * s + 0.5) * clamp01((yL - v) * s + 0.5) * side;
      if (aO > 0) {
        const dx = u - ix, dy = v - iy;
        const d = Math.sqrt(dx * dx + dy * dy);
        const shadow = 1 - 0.5 * clamp01(1 - (v - yU) / (0.4 * hu + 0.01));
        const sc = scl * (1 - 0.3 * t * t) * shadow;
        let r = sc, gg = sc * 0.97, b = sc * 0.95;
        const aI = clamp01((ri - d) * s + 0.5);
        if (aI > 0) {
          const ring = 1 - 0.55 * (d / ri) ** 4;
          const fib = 0.85 + 0.3 * noise1(Math.atan2(dy, dx) * 12);
          const k = ring * fib * shadow;
          const aP = clamp01((rp - d) * s + 0.5);
          r += (irR * k * (1 - aP) + 0.02 * aP - r) * aI;
          gg += (irG * k * (1 - aP) + 0.02 * aP - gg) * aI;
          b += (irB * k * (1 - aP) + 0.02 * aP - b) * aI;
        }
        const gx = u - glx, gy = v - gly;
        const aG = clamp01((ri * 0.2 - Math.sqrt(gx * gx + gy * gy)) * s + 0.5) * 0.9;
        if (aG > 0) r += (1 - r) * aG, gg += (1 - gg) * aG, b += (1 - b) * aG;
        R[q] += (r - R[q]) * aO, G[q] += (gg - G[q]) * aO, B[q] += (b - B[q]) * aO;
        H[q] -= 0.012 * aO;
        S[q] = S[q] * (1 - aO) + 2 * aO;
      }
      // Lashes along the upper lid (heavier at the outer end), a faint lower lid line.
      const lw = lash * (0.6 + 0.6 * Math.max(0, t)) * (at < 1 ? 1 : Math.max(0, 1 - (at - 1) * 8));
      const aL = clamp01((v - (yU - lw)) * s + 0.5) * clamp01((yU + 0.3 / s - v) * s + 0.5) *
        (lw * s < 1 ? Math.max(0.4, lw * s) : 1) * 0.9;
      if (aL > 0) {
        R[q] += (0.05 - R[q]) * aL, G[q] += (0.04 - G[q]) * aL, B[q] += (0.04 - B[q]) * aL;
        S[q] *= 1 - aL * 0.5;
      }
      const aLo = clamp01(1 - Math.abs(v - yL - 0.004) * s) * side * 0.3;
      if (aLo > 0) R[q] *= 1 - aLo * 0.6, G[q] *= 1 - aLo * 0.7, B[q] *= 1 - aLo * 0.7;
      // Lid crease and the lid's own roundness.
      if (at < 1.1) {
        const dc = (v - (yU - crease)) / 0.02;
        if (dc > -1 && dc < 1) {
          const k = 1 - dc * dc;
          H[q] -= 0.012 * k * k * base;
        }
        if (v < yU && v > yU - crease) H[q] += 0.008 * base;
      }
    }
  }
}

/** Eyebrows as tapered, hairy strokes; AU1/AU2 raise them, AU4 lowers and draws them in. */
export function paintBrows(c: Canvas, id: Identity, a: ActionUnits): void {
  const es = id.eyeSep, ew = id.eyeW, by = -id.browV;
  // Brows are darker than the skin even for blond or grey hair.
  const col = [0, 1, 2].map((k) => Math.min(id.hair[k] * 0.6 + 0.02, id.skin[k] * 0.45)) as Rgb;
  const th = id.browThick;
  for (const sg of [-1, 1]) {
    const x0 = sg * (es - ew * 1.05 - 0.035 * a.au4 - 0.01 * a.au9);
    const y0 = by + sg * id.asym + 0.015 - 0.11 * a.au1 + 0.08 * a.au4 + 0.03 * a.au9 +
      0.02 * a.au7;
    const x1 = sg * (es + ew * 0.4);
    const y1 = by + sg * id.asym - id.browArch - 0.05 * a.au1 - 0.1 * a.au2 + 0.06 * a.au4 +
      0.015 * a.au9;
    const x2 = sg * (es + ew * 1.4);
    const y2 = by + sg * id.asym + 0.045 - 0.09 * a.au2 - 0.01 * a.au1 + 0.035 * a.au4 -
      0.01 * id.browArch;
    // The stroke's centre line: the inner head sits a little lower than the hairs' top edge.
    c.paintCurve(
      x0,
      y0,
      x1 - sg * 0.02,
      y1 - 0.02,
      x2,
      y2,
      th * 0.95,
      th * 0.4,
      col,
      id.browDensity * 0.85,
      0.45,
    );
  }
}
