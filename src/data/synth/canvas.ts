/**
 * The raster the renderer draws on: per-pixel face coordinates from the pose (framing,
 * rotation, yaw, pitch), a height field, albedo and specular maps, and the primitives that
 * change them (bumps, ridges and curves in the height field; anti-aliased strokes, curves and
 * ellipses in the albedo). Each primitive is evaluated only inside its bounding box, with no
 * allocation per pixel.
 *
 * Coordinates: face units with the eye line at v = 0 and the chin near v = 1, u across the face
 * (0 on the midline).
 *
 * @module
 */
import { CANONICAL, canonicalScale } from "../../face/canonical.ts";
import { hashStep } from "../../rng.ts";
import type { Rgb } from "./identity.ts";
import type { Capture } from "./capture.ts";

/** Height of the background wall, below every part of the head. */
export const BG_HEIGHT = -0.6;
/** Depth of the head ellipsoid in face units. */
export const DEPTH = 0.85;

/** @returns x clamped to [0, 1] */
export function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

/** A table of 256 random values for cheap 1D value noise (hair strands, brow hairs). */
const _NOISE = (() => {
  const t = new Float32Array(257);
  let h = 0x1234567;
  for (let i = 0; i < 256; i++) {
    h = hashStep(h);
    t[i] = ((h >>> 8) & 0xffff) / 65536;
  }
  t[256] = t[0];
  return t;
})();

/** @returns smooth 1-D value noise in [0, 1) at x (period 256) */
export function noise1(x: number): number {
  const f = x - Math.floor(x);
  const i = Math.floor(x) & 255;
  return _NOISE[i] + (_NOISE[i + 1] - _NOISE[i]) * f;
}

/** Scratch buffers and the pose transform for one image side; reused image after image. */
export class Canvas {
  readonly n: number;
  readonly H: Float32Array;
  readonly Hb: Float32Array;
  readonly R: Float32Array;
  readonly G: Float32Array;
  readonly B: Float32Array;
  readonly S: Float32Array; // specular mask
  readonly U: Float32Array;
  readonly V: Float32Array;
  readonly rgb: Float32Array;
  readonly blotch = new Float32Array(81);
  // pose
  cx = 0;
  cy = 0;
  s = 1; // pixels per face unit
  cosT = 1;
  sinT = 0;
  sinY = 0;
  cosY = 1;
  sinP = 0;
  cosP = 1;
  // last bounding box
  x0 = 0;
  x1 = 0;
  y0 = 0;
  y1 = 0;

  constructor(n: number) {
    this.n = n;
    const m = n * n;
    this.H = new Float32Array(m);
    this.Hb = new Float32Array(m);
    this.R = new Float32Array(m);
    this.G = new Float32Array(m);
    this.B = new Float32Array(m);
    this.S = new Float32Array(m);
    this.U = new Float32Array(m);
    this.V = new Float32Array(m);
    this.rgb = new Float32Array(m * 3);
  }

  /**
   * Sets the pose and fills U, V with every pixel's face coordinates. The face is framed as the
   * face stage frames a real photo (`src/face/canonical.ts`): eyes level at the canonical eye
   * line, scaled by the inter-ocular and eye-to-mouth distances; the capture's scale, shift and
   * rotation are then small misalignments, like those of landmarks found in a photo.
   *
   * @param cap the capture @param face this face's distances in face units: `iod` between the
   *   eye centres, `eyeToMouth` from the eye line to the mouth-corner midpoint
   */
  pose(cap: Capture, face: { iod: number; eyeToMouth: number }): void {
    const n = this.n;
    this.s = cap.scale / canonicalScale(face.iod, face.eyeToMouth, n); // pixels per face unit
    this.cx = n * (0.5 + cap.shiftX);
    this.cy = n * (CANONICAL.eyeY + cap.shiftY);
    this.cosT = Math.cos(cap.rotation);
    this.sinT = Math.sin(cap.rotation);
    this.sinY = Math.sin(cap.yaw);
    this.cosY = Math.cos(cap.yaw);
    this.sinP = Math.sin(cap.pitch);
    this.cosP = Math.cos(cap.pitch);
    const { U, V, cosT, sinT, sinY, cosY, sinP, cosP } = this;
    const inv = 1 / this.s;
    // One fixed-point step is exact enough for a near-frontal head; two for larger turns.
    const iters = Math.abs(sinY) + Math.abs(sinP) < 0.12 ? 1 : 2;
    for (let y = 0; y < n; y++) {
      for (let x = 0; x < n; x++) {
        const dx = (x + 0.5 - this.cx) * inv, dy = (y + 0.5 - this.cy) * inv;
        const up = cosT * dx + sinT * dy, vp = -sinT * dx + cosT * dy;
        // Undo yaw and pitch on a rounded head (two fixed-point steps suffice for small angles).
        let u = up, v = vp;
        for (let k = 0; k < iters; k++) {
          const z = DEPTH * Math.sqrt(Math.max(0, 1 - 0.8 * u * u - 0.35 * (v - 0.1) * (v - 0.1)));
          u = (up - sinY * z) / cosY;
          v = (vp - sinP * z) / cosP;
        }
        const p = y * n + x;
        U[p] = u;
        V[p] = v;
      }
    }
  }

  /** Pixel bounding box of a face-unit rectangle, padded for yaw; result in x0..x1, y0..y1. */
  box(u0: number, v0: number, u1: number, v1: number): void {
    const { n, s, cosT, sinT } = this;
    const pad = (Math.abs(this.sinY) + Math.abs(this.sinP)) * DEPTH * 0.25 + 0.02;
    u0 -= pad, v0 -= pad, u1 += pad, v1 += pad;
    let xa = 1e9, xb = -1e9, ya = 1e9, yb = -1e9;
    for (let k = 0; k < 4; k++) {
      const u = k & 1 ? u1 : u0, v = k & 2 ? v1 : v0;
      const z = DEPTH * Math.sqrt(Math.max(0, 1 - 0.8 * u * u - 0.35 * (v - 0.1) * (v - 0.1)));
      const up = u * this.cosY + this.sinY * z, vp = v * this.cosP + this.sinP * z;
      const x = this.cx + s * (cosT * up - sinT * vp), y = this.cy + s * (sinT * up + cosT * vp);
      if (x < xa) xa = x;
      if (x > xb) xb = x;
      if (y < ya) ya = y;
      if (y > yb) yb = y;
    }
    this.x0 = Math.max(0, Math.floor(xa) - 1);
    this.x1 = Math.min(n - 1, Math.ceil(xb) + 1);
    this.y0 = Math.max(0, Math.floor(ya) - 1);
    this.y1 = Math.min(n - 1, Math.ceil(yb) + 1);
  }

  /** Adds a smooth compact bump (amp > 0) or dent (amp < 0) to the height field. */
  bump(cu: number, cv: number, ru: number, rv: number, amp: number): void {
    if (amp === 0) return;
    this.box(cu - ru, cv - rv, cu + ru, cv + rv);
    const { n, U, V, H } = this;
    const iu = 1 / ru, iv = 1 / rv;
    for (let y = this.y0; y <= this.y1; y++) {
      for (let x = this.x0, p = y * n + x; x <= this.x1; x++, p++) {
        const du = (U[p] - cu) * iu, dv = (V[p] - cv) * iv;
        const r2 = du * du + dv * dv;
        if (r2 < 1) {
          const k = 1 - r2;
          H[p] += amp * k * k;
        }
      }
    }
  }

  /** Adds a ridge (amp > 0) or a valley (amp < 0) along a segment, radius tapering a -> b. */
  ridge(au: number, av: number, bu: number, bv: number, ra: number, rb: number, amp: number): void {
    if (amp === 0) return;
    const rm = Math.max(ra, rb);
    this.box(
      Math.min(au, bu) - rm,
      Math.min(av, bv) - rm,
      Math.max(au, bu) + rm,
      Math.max(av, bv) + rm,
    );
    const { n, U, V, H } = this;
    const eu = bu - au, ev = bv - av, l2 = eu * eu + ev * ev || 1e-9;
    for (let y = this.y0; y <= this.y1; y++) {
      for (let x = this.x0, p = y * n + x; x <= this.x1; x++, p++) {
        const pu = U[p] - au, pv = V[p] - av;
        let t = (pu * eu + pv * ev) / l2;
        t = t < 0 ? 0 : t > 1 ? 1 : t;
        const du = pu - t * eu, dv = pv - t * ev;
        const r = ra + (rb - ra) * t;
        const q = (du * du + dv * dv) / (r * r);
        if (q < 1) {
          const k = 1 - q;
          H[p] += amp * k * k;
        }
      }
    }
  }

  /** Samples a quadratic Bezier into `_PTS` (seg + 1 points); returns the bounding box. */
  #bezier(
    p0u: number,
    p0v: number,
    p1u: number,
    p1v: number,
    p2u: number,
    p2v: number,
    seg: number,
    pad: number,
  ): void {
    let ua = 1e9, ub = -1e9, va = 1e9, vb = -1e9;
    for (let i = 0; i <= seg; i++) {
      const t = i / seg, a = (1 - t) * (1 - t), b = 2 * t * (1 - t), c = t * t;
      const u = a * p0u + b * p1u + c * p2u, v = a * p0v + b * p1v + c * p2v;
      _PTS[2 * i] = u, _PTS[2 * i + 1] = v;
      if (u < ua) ua = u;
      if (u > ub) ub = u;
      if (v < va) va = v;
      if (v > vb) vb = v;
    }
    this.box(ua - pad, va - pad, ub + pad, vb + pad);
  }

  /** Distance from (u, v) to the polyline in `_PTS`; `_T` receives the arc parameter 0..1. */
  #polyDist(u: number, v: number, seg: number): number {
    let best = 1e18, bt = 0;
    for (let i = 0; i < seg; i++) {
      const au = _PTS[2 * i], av = _PTS[2 * i + 1];
      const eu = _PTS[2 * i + 2] - au, ev = _PTS[2 * i + 3] - av;
      const pu = u - au, pv = v - av;
      let t = (pu * eu + pv * ev) / (eu * eu + ev * ev || 1e-12);
      t = t < 0 ? 0 : t > 1 ? 1 : t;
      const du = pu - t * eu, dv = pv - t * ev, d = du * du + dv * dv;
      if (d < best) best = d, bt = (i + t) / seg;
    }
    _T[0] = bt;
    return Math.sqrt(best);
  }

  /** A ridge (amp > 0) or valley along a quadratic Bezier curve, tapering at both ends. */
  curveRidge(
    p0u: number,
    p0v: number,
    p1u: number,
    p1v: number,
    p2u: number,
    p2v: number,
    r: number,
    amp: number,
    seg = 5,
  ): void {
    if (amp === 0) return;
    this.#bezier(p0u, p0v, p1u, p1v, p2u, p2v, seg, r);
    const { n, U, V, H } = this;
    for (let y = this.y0; y <= this.y1; y++) {
      for (let x = this.x0, p = y * n + x; x <= this.x1; x++, p++) {
        const d = this.#polyDist(U[p], V[p], seg);
        const t = _T[0], rr = r * (0.45 + 2.2 * t * (1 - t));
        const q = (d * d) / (rr * rr);
        if (q < 1) {
          const k = 1 - q;
          H[p] += amp * k * k;
        }
      }
    }
  }

  /** Paints a tapered, anti-aliased stroke (radius r0 -> r1) along a quadratic Bezier curve. */
  paintCurve(
    p0u: number,
    p0v: number,
    p1u: number,
    p1v: number,
    p2u: number,
    p2v: number,
    r0: number,
    r1: number,
    col: Rgb,
    alpha: number,
    streak = 0,
    seg = 6,
  ): void {
    this.#bezier(p0u, p0v, p1u, p1v, p2u, p2v, seg, Math.max(r0, r1));
    const { n, U, V, R, G, B, S, s } = this;
    const [cr, cg, cb] = col;
    const su = p2u - p0u, sv = p2v - p0v, sl = 1 / Math.sqrt(su * su + sv * sv);
    for (let y = this.y0; y <= this.y1; y++) {
      for (let x = this.x0, p = y * n + x; x <= this.x1; x++, p++) {
        const u = U[p], v = V[p];
        const d = this.#polyDist(u, v, seg);
        const r = r0 + (r1 - r0) * _T[0];
        let a = (r - d) * s + 0.5;
        if (a <= 0) continue;
        if (a > 1) a = 1;
        if (r * s < 0.5) a *= r * s * 2;
        // Hair-like streaks: noise across the stroke's direction, a few pixels long along it.
        if (streak > 0) {
          a *= 1 -
            streak *
              noise1(
                ((u - p0u) * sv - (v - p0v) * su) * sl * 160 +
                  7 * noise1((u * su + v * sv) * sl * 25),
              );
        }
        a *= alpha;
        R[p] += (cr - R[p]) * a;
        G[p] += (cg - G[p]) * a;
        B[p] += (cb - B[p]) * a;
        S[p] *= 1 - a * 0.7;
      }
    }
  }

  /**
   * Paints a tapered, anti-aliased stroke into the albedo; `height` also raises the relief.
   */
  paintStroke(
    au: number,
    av: number,
    bu: number,
    bv: number,
    ra: number,
    rb: number,
    col: Rgb,
    alpha: number,
    height = 0,
  ): void {
    const rm = Math.max(ra, rb);
    this.box(
      Math.min(au, bu) - rm,
      Math.min(av, bv) - rm,
      Math.max(au, bu) + rm,
      Math.max(av, bv) + rm,
    );
    const { n, U, V, R, G, B, H, S, s } = this;
    const eu = bu - au, ev = bv - av, l2 = eu * eu + ev * ev || 1e-9;
    const [cr, cg, cb] = col;
    for (let y = this.y0; y <= this.y1; y++) {
      for (let x = this.x0, p = y * n + x; x <= this.x1; x++, p++) {
        const pu = U[p] - au, pv = V[p] - av;
        let t = (pu * eu + pv * ev) / l2;
        t = t < 0 ? 0 : t > 1 ? 1 : t;
        const du = pu - t * eu, dv = pv - t * ev;
        const r = ra + (rb - ra) * t;
        const d = Math.sqrt(du * du + dv * dv);
        let a = (r - d) * s + 0.5;
        if (a <= 0) continue;
        if (a > 1) a = 1;
        // Strokes thinner than a pixel fade instead of vanishing.
        if (r * s < 0.5) a *= r * s * 2;
        a *= alpha;
        R[p] += (cr - R[p]) * a;
        G[p] += (cg - G[p]) * a;
        B[p] += (cb - B[p]) * a;
        S[p] *= 1 - a * 0.7;
        if (height !== 0) H[p] += height * a * (1 - (d / r) * (d / r));
      }
    }
  }

  /** Paints an anti-aliased filled ellipse; `ring` > 0 paints only a ring of that width. */
  paintEllipse(
    cu: number,
    cv: number,
    ru: number,
    rv: number,
    col: Rgb,
    alpha: number,
    ring = 0,
    height = 0,
  ): void {
    this.box(cu - ru, cv - rv, cu + ru, cv + rv);
    const { n, U, V, R, G, B, H, s } = this;
    const rmin = Math.min(ru, rv);
    const [cr, cg, cb] = col;
    for (let y = this.y0; y <= this.y1; y++) {
      for (let x = this.x0, p = y * n + x; x <= this.x1; x++, p++) {
        const du = (U[p] - cu) / ru, dv = (V[p] - cv) / rv;
        const rn = Math.sqrt(du * du + dv * dv);
        const e = (1 - rn) * rmin * s; // pixels inside the edge
        let a = e + 0.5;
        if (a <= 0) continue;
        if (a > 1) a = 1;
        if (ring > 0) {
          const ri = ring * s - e + 0.5;
          a *= ri < 0 ? 0 : ri > 1 ? 1 : ri;
          if (ring * s < 1) a *= Math.max(0.35, ring * s);
        }
        a *= alpha;
        if (a <= 0) continue;
        R[p] += (cr - R[p]) * a;
        G[p] += (cg - G[p]) * a;
        B[p] += (cb - B[p]) * a;
        if (height !== 0) H[p] += height * a;
      }
    }
  }
}

/** Polyline scratch for the curve primitives (at most 16 segments). */
const _PTS = new Float64Array(34);
const _T = new Float64Array(1);

/** One canvas per image side, reused image after image. */
const _canvases = new Map<number, Canvas>();

export function canvasFor(n: number): Canvas {
  let c = _canvases.get(n);
  if (!c) _canvases.set(n, c = new Canvas(n));
  return c;
}
