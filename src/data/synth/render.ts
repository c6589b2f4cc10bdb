/**
 * The face renderer: a 2.5D height field lit with a Lambertian model. Every part of the face
 * (skull and jaw ellipsoid, brow ridge, eye sockets and eyeballs, nose, cheeks, lips, chin) and
 * every action unit (brow furrows, cheek bulges, nasolabial folds, nose wrinkles, chin raise,
 * lid tightening) is a change of height, so it makes its own shading and shadows under any
 * light; colour (skin, lips, eyes, teeth, brows, hair, glasses) is painted into an albedo map
 * with analytic anti-aliasing. Finally the camera (capture.ts) blurs, tints and adds noise.
 *
 * Coordinates: face units with the eye line at v = 0 and the chin near v = 1, u across the face
 * (0 on the midline). Each pixel's face coordinates are computed once (inverting framing,
 * rotation, yaw and pitch) and every primitive is evaluated only inside its bounding box, with
 * no allocation per pixel.
 *
 * @module
 */
import type { ActionUnits } from "./expressions.ts";
import type { Identity, Rgb } from "./identity.ts";
import { applyCamera, type Capture } from "./capture.ts";

/** Smallest and largest supported image side. */
export const MIN_SIZE = 32;
export const MAX_SIZE = 224;

/** Where the eye line sits as a fraction of the image height (real face crops: 0.35-0.40). */
const _EYE_ROW = 0.37;
/** Face units to pixels, per pixel of image side (eye line to chin ~ 58% of the height). */
const _UNIT = 0.6;
/** Height of the background wall, below every part of the head. */
const _BG_HEIGHT = -0.6;
/** Depth of the head ellipsoid in face units. */
const _DEPTH = 0.85;

function _clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

/** A table of 256 random values for cheap 1D value noise (hair strands, brow hairs). */
const _NOISE = (() => {
  const t = new Float32Array(257);
  let h = 0x1234567;
  for (let i = 0; i < 256; i++) {
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) + 0x297a2d39 | 0;
    t[i] = ((h >>> 8) & 0xffff) / 65536;
  }
  t[256] = t[0];
  return t;
})();

function _noise1(x: number): number {
  const f = x - Math.floor(x);
  const i = Math.floor(x) & 255;
  return _NOISE[i] + (_NOISE[i + 1] - _NOISE[i]) * f;
}

/** Scratch buffers and the pose transform for one image side; reused image after image. */
class _Canvas {
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

  /** Sets the pose and fills U, V with every pixel's face coordinates. */
  pose(cap: Capture): void {
    const n = this.n;
    this.s = n * _UNIT * cap.scale;
    this.cx = n * (0.5 + cap.shiftX);
    this.cy = n * (_EYE_ROW + cap.shiftY) + (cap.scale - 1) * n * 0.1;
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
          const z = _DEPTH * Math.sqrt(Math.max(0, 1 - 0.8 * u * u - 0.35 * (v - 0.1) * (v - 0.1)));
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
    const pad = (Math.abs(this.sinY) + Math.abs(this.sinP)) * _DEPTH * 0.25 + 0.02;
    u0 -= pad, v0 -= pad, u1 += pad, v1 += pad;
    let xa = 1e9, xb = -1e9, ya = 1e9, yb = -1e9;
    for (let k = 0; k < 4; k++) {
      const u = k & 1 ? u1 : u0, v = k & 2 ? v1 : v0;
      const z = _DEPTH * Math.sqrt(Math.max(0, 1 - 0.8 * u * u - 0.35 * (v - 0.1) * (v - 0.1)));
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
              _noise1(
                ((u - p0u) * sv - (v - p0v) * su) * sl * 160 +
                  7 * _noise1((u * su + v * sv) * sl * 25),
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

const _canvases = new Map<number, _Canvas>();

function _canvas(n: number): _Canvas {
  let c = _canvases.get(n);
  if (!c) _canvases.set(n, c = new _Canvas(n));
  return c;
}

/** The expression-dependent geometry derived once per image. */
interface _Geometry {
  chinV: number;
  mouthY: number;
  mouthW: number;
  cornerDY: number;
  openU: number;
  openL: number;
  bow: number;
  upperLip: number;
  lowerLip: number;
  shapeP: number;
  snarl: number;
}

function _geometry(id: Identity, a: ActionUnits): _Geometry {
  const press = a.au23;
  const openScale = 1 - 0.85 * press;
  const jaw = a.au26;
  return {
    chinV: id.chinV + 0.2 * jaw + 0.03 * a.au25 - 0.02 * a.au17,
    mouthY: id.mouthV + 0.015 * jaw,
    mouthW: id.mouthW *
      (1 + 0.14 * a.au12 + 0.3 * a.au20 - 0.12 * press - 0.2 * jaw * (1 - a.au20) + 0.05 * a.au10 -
        0.05 * a.au17),
    cornerDY: -0.075 * a.au12 + 0.075 * a.au15 + 0.012 * a.au20 - 0.008 * a.au10 + 0.01 * a.au17,
    openU: (0.003 + 0.05 * a.au10 + 0.018 * a.au12 * a.au25 + 0.012 * a.au25 + 0.015 * jaw) *
      openScale,
    openL: (0.18 * jaw + 0.03 * a.au25 + 0.05 * a.au16 + 0.02 * a.au20 * a.au25) * openScale,
    bow: 0.02 * a.au17 + 0.008 * a.au15,
    upperLip: id.upperLip * (1 - 0.6 * press) * (1 - 0.35 * a.au10) * (1 - 0.2 * a.au12),
    lowerLip: id.lowerLip * (1 - 0.55 * press) * (1 + 0.2 * a.au17) * (1 - 0.15 * a.au20),
    shapeP: 2 + 3 * a.au20 + 1.2 * a.au12 + 1.5 * a.au10,
    snarl: a.au10,
  };
}

/**
 * Renders one face into `out` (RGB, `[size, size, 3]` float32 in [0, 1]) at `offset`.
 *
 * @param out destination, e.g. a batch's `images`
 * @param offset index of the first float to write
 * @param size image side, 32 .. 224
 * @param id the person
 * @param aus the expression
 * @param cap the capture
 * @example
 * ```ts
 * const img = new Float32Array(64 * 64 * 3);
 * renderFace(img, 0, 64, makeIdentity(1, 7), sampleExpression("happiness", 1, 0),
 *   sampleCapture("synthetic", 1, 0));
 * ```
 */
export function renderFace(
  out: Float32Array,
  offset: number,
  size: number,
  id: Identity,
  aus: ActionUnits,
  cap: Capture,
): void {
  // Small images are rendered at twice the size and averaged down (supersampling).
  const f = size < 64 ? 2 : 1;
  const n = size * f;
  const c = _canvas(n);
  c.pose(cap);
  const g = _geometry(id, aus);
  _base(c, id, aus, g, cap);
  if (id.beard) _beard(c, id, g);
  _features(c, id, aus, g);
  _mouth(c, id, aus, g);
  for (const side of [-1, 1]) _eye(c, id, aus, cap, side);
  _brows(c, id, aus);
  if (id.glasses) _glasses(c, id);
  if (cap.occluder) _occluder(c, id, cap);
  _shade(c, cap);
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

/** Background, hair, neck and the face ellipsoid with its skin albedo. */
function _base(c: _Canvas, id: Identity, a: ActionUnits, g: _Geometry, cap: Capture): void {
  const { n, U, V, H, R, G, B, S, s, blotch } = c;
  // Per-person skin blotches: a 9x9 value-noise grid over the face (face units -1.2..1.2).
  let h = id.textureSeed | 0;
  for (let i = 0; i < 81; i++) {
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) + 0x297a2d39 | 0;
    blotch[i] = ((h >>> 8) & 0xffff) / 32768 - 1;
  }
  const W = id.faceW, vc = 0.08, top = id.crownV, chin = g.chinV;
  const aboveH = vc - top, belowH = chin - vc;
  const taperK = 0.12 + id.jawTaper * 0.5;
  const neckW = W * 0.5;
  const earU = W * 0.97 + 0.03;
  const hairW = W * 1.03 + id.hairVolume;
  const hairTop = vc - top + id.hairVolume * 1.2;
  const [sr, sg, sb] = id.skin;
  const [hr, hg, hb] = id.hair;
  const [b0r, b0g, b0b] = cap.bg0, [b1r, b1g, b1b] = cap.bg1;
  const ca = Math.cos(cap.bgAngle), sa = Math.sin(cap.bgAngle);
  const bgN = cap.bgNoise, bl = cap.blotch, pores = cap.pores;
  const hairline = id.hairlineV, fringe = id.fringeV, bald = id.bald;
  const hairLen = id.hairLength;
  const cheekRed = 0.06 + 0.04 * a.au6;
  let ph = (cap.noiseSeed ^ 0x5bd1e995) | 0;
  const bs = 1 / n;
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const p = y * n + x;
      const u = U[p], v = V[p];
      // The face: an egg-shaped ellipsoid, narrowing towards the chin.
      const qv = v < vc ? (v - vc) / aboveH : (v - vc) / belowH;
      const wu = v > vc ? W * (1 - taperK * qv * qv) : W;
      const ru = u / wu;
      const r2 = ru * ru + qv * qv;
      const af0 = r2 < 1.3 ? _clamp01((1 - Math.sqrt(r2)) * wu * s * 0.9 + 0.5) : 0;
      let r = 0, gg = 0, b = 0, hh = 0, sp = 0;
      if (af0 < 1) {
        // Only what shows around the face is computed: most pixels are skin.
        // Background: a gradient with soft blotches (out-of-focus scenery).
        const gx = (x * bs - 0.5) * ca + (y * bs - 0.5) * sa + 0.5;
        const bn = 1 +
          bgN * (_noise1(x * bs * 5 + y * bs * 3.1) + _noise1(y * bs * 4.3 - x * bs * 2) - 1);
        r = (b0r + (b1r - b0r) * gx) * bn,
          gg = (b0g + (b1g - b0g) * gx) * bn,
          b = (b0b + (b1b - b0b) * gx) * bn;
        hh = _BG_HEIGHT; // the background lies behind everything
        // Neck (behind the face, in its shadow).
        if (v > 0.45) {
          const rn = Math.abs(u) / neckW;
          const an = _clamp01((1 - rn) * neckW * s + 0.5);
          if (an > 0) {
            const k = 0.45 + 0.25 * _clamp01((v - chin) * 3);
            r += (sr * k - r) * an, gg += (sg * k - gg) * an, b += (sb * k - b) * an;
            // The neck lies behind the jaw line (never in front of the chin's edge).
            hh += (_DEPTH * 0.4 * Math.sqrt(Math.max(0, 1 - rn * rn)) - 0.45 - hh) * an;
            sp = an * 0.5;
          }
        }
        // Ears, half hidden behind the face's edge.
        const eu = (Math.abs(u) - earU) / 0.085, ev = (v - 0.17) / 0.19;
        const er2 = eu * eu + ev * ev;
        if (er2 < 1.3) {
          const ae = _clamp01((1 - Math.sqrt(er2)) * 0.085 * s + 0.5);
          if (ae > 0) {
            const rim = 1 - 0.25 * _clamp01(1 - er2 * 2.5); // the ear's hollow is darker
            r += (sr * 0.92 * rim - r) * ae,
              gg += (sg * 0.82 * rim - gg) * ae,
              b += (sb * 0.82 * rim - b) * ae;
            // Ears and the hair beside the face lie behind the cheek's silhouette.
            hh += (_DEPTH * 0.25 * Math.max(0, 1 - er2) - 0.12 - hh) * ae;
            sp += (0.6 - sp) * ae;
          }
        }
        // Hair behind the face: the skull cap and, for long hair, the sides.
        if (!bald) {
          const qh = (v - vc) / hairTop;
          const ru = u / hairW;
          let rh2 = ru * ru + (v < vc ? qh * qh : 0);
          // Below the cap, hair hangs down to hairLen (short hair: just past the ear tops),
          // with a rounded end.
          const end = vc + (hairLen > 0 ? hairLen : 0.1);
          const te = (v - (end - 0.2)) / 0.2;
          if (te > 0) rh2 += te * te;
          if (rh2 < 1.2) {
            const ah = _clamp01((1 - Math.sqrt(rh2)) * hairW * s * 0.8 + 0.5);
            if (ah > 0) {
              const st = 0.62 + 0.3 * _noise1(u * 70 + v * 6 + 13 * _noise1(v * 3 + u)) +
                0.3 * _noise1(u * 9 + v * 2 + 50);
              r += (hr * st - r) * ah, gg += (hg * st - gg) * ah, b += (hb * st - b) * ah;
              const hz = Math.min(-0.03, _DEPTH * 0.8 * Math.sqrt(Math.max(0, 1 - rh2)) - 0.3);
              hh += (hz - hh) * ah;
              sp += (0.3 - sp) * ah;
            }
          }
        }
      }
      if (r2 < 1.3) {
        const rn = Math.sqrt(r2);
        const af = _clamp01((1 - rn) * wu * s * 0.9 + 0.5);
        if (af > 0) {
          // Albedo: skin with blotches, redder cheeks, a little darker around the eyes.
          const bu = (u + 1.2) * 3.33, bv = (v + 1.2) * 3.33;
          const iu = bu < 0 ? 0 : bu > 7.99 ? 7.99 : bu, iv = bv < 0 ? 0 : bv > 7.99 ? 7.99 : bv;
          const ju = iu | 0, jv = iv | 0, fu = iu - ju, fv = iv - jv, q = jv * 9 + ju;
          const nb = (blotch[q] * (1 - fu) + blotch[q + 1] * fu) * (1 - fv) +
            (blotch[q + 9] * (1 - fu) + blotch[q + 10] * fu) * fv;
          ph = Math.imul(ph ^ (ph >>> 15), 0x2c1b3c6d) + 0x297a2d39 | 0;
          const pore = pores * (((ph >>> 8) & 0xff) / 128 - 1);
          const cu = Math.abs(u) - 0.38, cv = v - 0.32;
          const cheek = Math.max(0, 1 - (cu * cu + cv * cv) * 14) * cheekRed;
          const eu = Math.abs(u) - id.eyeSep, ev = v - 0.04;
          const orbit = Math.max(0, 1 - (eu * eu * 30 + ev * ev * 90)) * 0.08;
          const m = 1 + bl * nb + pore - orbit;
          const fr = sr * m * (1 + cheek),
            fg = sg * m * (1 - cheek * 0.4),
            fb = sb * m * (1 - cheek * 0.2);
          r += (fr - r) * af, gg += (fg - gg) * af, b += (fb - b) * af;
          const hf = _DEPTH * Math.sqrt(Math.max(0, 1 - r2)) + pore * 0.02;
          hh += (Math.max(hf, hh) - hh) * af;
          sp += (1 - sp) * af;
          // Hair in front of the forehead: above the hairline, or a fringe.
          if (!bald) {
            const au = Math.abs(u) / W;
            let hl = hairline + 0.5 * au * au * au + 0.04 * (_noise1(u * 30 + id.id) - 0.5);
            if (fringe < 0 && au < 0.8) hl = Math.max(hl, fringe + 0.04 * Math.sin(u * 20));
            const ah = _clamp01((hl - v) * s + 0.5);
            if (ah > 0) {
              const st = 0.62 + 0.3 * _noise1(u * 70 + v * 6 + 13 * _noise1(v * 3 + u)) +
                0.3 * _noise1(u * 9 + v * 2 + 50);
              r += (hr * st - r) * ah, gg += (hg * st - gg) * ah, b += (hb * st - b) * ah;
              hh += id.hairVolume * 0.5 * ah;
              sp += (0.3 - sp) * ah;
            }
          }
        }
      }
      R[p] = r, G[p] = gg, B[p] = b, H[p] = hh, S[p] = sp;
    }
  }
}

/** Stubble, moustache or beard: darker, hair-coloured skin on the lower face. */
function _beard(c: _Canvas, id: Identity, g: _Geometry): void {
  const { n, U, V, R, G, B, S, H } = c;
  c.box(-id.faceW, id.noseV, id.faceW, g.chinV + 0.05);
  const dens = id.beard === 1 ? 0.35 : 0.8;
  const [hr, hg, hb] = id.hair;
  const mTop = id.noseV + 0.07, mBot = g.mouthY - 0.02;
  for (let y = c.y0; y <= c.y1; y++) {
    for (let x = c.x0, p = y * n + x; x <= c.x1; x++, p++) {
      const u = U[p], v = V[p], au = Math.abs(u);
      let m = 0;
      // moustache band above the lip
      // moustache: feathered edges; it follows the lip line down towards the corners
      if (v > mTop - 0.03 && au < g.mouthW + 0.06) {
        const t = au / g.mouthW;
        const bot = mBot + g.cornerDY * t * t + 0.03 * t * t - g.openU;
        const top = mTop + 0.04 * t * t;
        m = _clamp01((v - top) / 0.03) * _clamp01((bot - v) / 0.012) *
          _clamp01((g.mouthW + 0.05 - au) / 0.05);
      }
      if (id.beard !== 2 && v > g.mouthY + 0.05) {
        // chin and jaw: everything below the lower lip, fading up the cheeks
        const jaw = _clamp01((v - (0.25 + 0.4 * (1 - au / id.faceW))) * 6);
        m = Math.max(m, jaw);
      } else if (id.beard !== 2 && au > g.mouthW + 0.05 && v > id.noseV) {
        m = Math.max(m, _clamp01((au - g.mouthW - 0.05) * 8) * _clamp01((v - id.noseV) * 6));
      }
      if (m <= 0) continue;
      const k = m * dens * (0.55 + 0.45 * _noise1(u * 160 + v * 37 + _noise1(v * 140) * 9));
      R[p] += (hr - R[p]) * k, G[p] += (hg - G[p]) * k, B[p] += (hb - B[p]) * k;
      S[p] *= 1 - 0.6 * k;
      if (id.beard === 3) H[p] += 0.03 * m;
    }
  }
}

/** Brow ridge, sockets, nose, cheeks, folds, furrows and wrinkles: the height field's relief. */
function _features(c: _Canvas, id: Identity, a: ActionUnits, g: _Geometry): void {
  const m = id.male ? 1 : 0;
  const age = id.age;
  const es = id.eyeSep, ew = id.eyeW;
  const browY = -id.browV;
  for (const sg of [-1, 1]) {
    // Brow ridge follows the brow; AU4 bunches it towards the midline and down.
    const inY = browY + 0.03 - 0.08 * a.au1 + 0.06 * a.au4;
    const outY = browY + 0.01 - 0.08 * a.au2 + 0.03 * a.au4;
    c.ridge(
      sg * (es - ew * 0.9 - 0.03 * a.au4),
      inY,
      sg * (es + ew * 1.3),
      outY,
      0.12,
      0.1,
      0.035 + 0.02 * m,
    );
    // Eye socket, deepest under the brow's inner end; lid tightening fills it a little.
    c.bump(sg * (es - 0.01), -0.02, ew * 1.65, 0.17, -0.085 + 0.02 * a.au7);
    c.bump(sg * (es - ew * 0.7), -0.1, 0.06, 0.06, -0.03);
    // Eyeball under the lids.
    c.bump(sg * es, 0.0, ew * 1.05, ew * 0.8, 0.05);
    // Cheeks: AU6 and AU12 lift and round them; fuller in the young.
    const chV = 0.3 - 0.07 * a.au6 - 0.04 * a.au12 + 0.05 * age;
    c.bump(
      sg * (es + 0.04),
      chV,
      0.24,
      0.2,
      0.04 + 0.04 * id.cheekFull + 0.06 * a.au6 + 0.04 * a.au12 + 0.02 * a.au10,
    );
    // Lower-lid bulge pushed up by the cheek (AU6) and age bags.
    c.ridge(
      sg * (es - ew * 0.6),
      0.085,
      sg * (es + ew * 0.8),
      0.08,
      0.04,
      0.04,
      0.005 + 0.015 * a.au6 + 0.01 * age,
    );
    c.ridge(
      sg * (es - ew * 0.8),
      0.13 - 0.03 * a.au6,
      sg * (es + ew * 0.9),
      0.12 - 0.03 * a.au6,
      0.02,
      0.02,
      -(0.002 + 0.008 * a.au6 + 0.008 * age),
    );
    // Crow's feet (AU6, age).
    const cf = 0.006 * a.au6 + 0.006 * age * age;
    if (cf > 0.002) {
      for (const ang of [-0.45, 0, 0.45]) {
        const x0 = sg * (es + ew * 1.15), y0 = 0.0;
        c.ridge(x0, y0 + ang * 0.02, x0 + sg * 0.07, y0 + ang * 0.07, 0.012, 0.008, -cf);
      }
    }
    // Nose wings and nostrils: AU9/AU10 pull them up and flare them.
    const alU = sg * (id.noseW * 0.85 + 0.01 * a.au9),
      alV = id.noseV + 0.015 - 0.03 * a.au9 - 0.02 * a.au10;
    c.bump(alU, alV, 0.06, 0.05, id.noseH * 0.32);
    c.bump(sg * id.noseW * 0.45, alV + 0.035, 0.03, 0.018, -0.03);
    // Alar crease and the nasolabial fold down to just beyond the mouth corner.
    const fold = 0.003 + 0.01 * age + 0.012 * a.au6 + 0.03 * a.au12 + 0.035 * a.au9 +
      0.04 * a.au10 +
      0.012 * a.au20 + 0.006 * id.cheekFull;
    const cu = sg * (g.mouthW + 0.045), cv = g.mouthY + g.cornerDY + 0.02;
    const su = alU + sg * 0.045, sv = alV - 0.01;
    c.curveRidge(su, sv, sg * (g.mouthW + 0.12), (sv + cv) * 0.5 + 0.02, cu, cv, 0.05, -fold);
    // The cheek side of the fold bulges.
    c.curveRidge(
      su + sg * 0.05,
      sv,
      sg * (g.mouthW + 0.18),
      (sv + cv) * 0.5,
      cu + sg * 0.05,
      cv - 0.03,
      0.075,
      fold * 0.6,
    );
    // Marionette lines below the corners (AU15, age).
    const mar = 0.012 * a.au15 + 0.008 * age;
    c.ridge(cu - sg * 0.03, cv + 0.02, cu + sg * 0.0, cv + 0.15, 0.025, 0.02, -mar);
    // Corner dimples.
    c.bump(
      sg * (g.mouthW + 0.01),
      g.mouthY + g.cornerDY,
      0.035,
      0.035,
      -0.008 - 0.012 * a.au12 - 0.008 * a.au15,
    );
  }
  // Nose: bridge, tip, columella; root dent between the eyes.
  const nh = id.noseH;
  c.ridge(0, -0.04, 0, 0.16, 0.1, 0.12, nh * 0.17);
  c.ridge(0, 0.1, 0, id.noseV - 0.03, 0.12, 0.13, nh * 0.3);
  c.bump(0, id.noseV - 0.005 - 0.015 * a.au9, id.noseW * 0.7, 0.075, nh * 0.55);
  c.bump(0, -0.05, 0.08, 0.05, -0.02);
  // Nose wrinkle (AU9): horizontal creases across the upper bridge, skin bunched between.
  if (a.au9 > 0.05) {
    for (let i = 0; i < 3; i++) {
      const y = -0.03 + i * 0.045;
      c.ridge(-0.085, y + 0.01, 0.085, y + 0.01, 0.018, 0.018, -0.012 * a.au9);
      c.ridge(-0.07, y - 0.012, 0.07, y - 0.012, 0.018, 0.018, 0.008 * a.au9);
    }
  }
  // Grief: AU1 with AU4 bunches the centre of the forehead above the raised inner brows.
  c.bump(0, browY - 0.1, 0.16, 0.08, 0.03 * a.au1 * a.au4);
  // Brow furrows (AU4) and a bulge between the brows.
  if (a.au4 > 0.05) {
    c.bump(0, browY + 0.02, 0.1, 0.07, 0.02 * a.au4);
    for (const sg of [-1, 1]) {
      c.ridge(sg * 0.035, browY - 0.09, sg * 0.045, browY + 0.07, 0.018, 0.018, -0.02 * a.au4);
    }
  }
  // Forehead lines: AU1 raises the centre, AU2 the sides; deeper with age.
  const fl = 0.007 * a.au1 + 0.006 * a.au2 + 0.005 * age;
  if (fl > 0.003) {
    const wide = 0.18 + 0.25 * (a.au2 / (a.au1 + a.au2 + 1e-3)) + 0.1 * age;
    for (let i = 0; i < 3; i++) {
      const y = browY - 0.14 - i * 0.07;
      c.curveRidge(
        -wide,
        y + 0.025,
        0,
        y - 0.02 * a.au1,
        wide,
        y + 0.025,
        0.018,
        -fl * (1 - i * 0.2),
        3,
      );
    }
  }
  // Philtrum and upper-lip skin; mentolabial sulcus under the lower lip; chin (AU17 bulges).
  const mY = g.mouthY;
  c.ridge(0, id.noseV + 0.06, 0, mY - g.upperLip - g.openU, 0.025, 0.03, -0.01);
  const lipBot = mY + g.openL + g.lowerLip;
  c.ridge(
    -g.mouthW * 0.6,
    lipBot + 0.04,
    g.mouthW * 0.6,
    lipBot + 0.04,
    0.04,
    0.04,
    -0.012 - 0.015 * a.au17,
  );
  c.bump(0, g.chinV - 0.13 - 0.03 * a.au17, 0.17, 0.12, 0.05 + 0.06 * a.au17);
  c.bump(0, mY + 0.01, g.mouthW + 0.05, 0.12, 0.04 + 0.02 * a.au17);
}

/** Lips, mouth cavity, teeth; AUs move corners, part the lips and drop the jaw. */
function _mouth(c: _Canvas, id: Identity, a: ActionUnits, g: _Geometry): void {
  const { n, U, V, R, G, B, H, S, s } = c;
  const mw = g.mouthW, my = g.mouthY;
  const top = my - g.openU - g.upperLip - 0.03;
  const bot = my + Math.max(0, g.cornerDY) + g.openL + g.lowerLip + 0.03;
  c.box(-mw - 0.02, top, mw + 0.02, bot);
  const [lr, lg, lb] = id.lip;
  const pw = 1 / s;
  const teethW = id.mouthW * 0.8;
  const upperTeethBot = id.mouthV + 0.035;
  const lowerTeethTop = id.mouthV + 0.025 + 0.17 * a.au26;
  const p = g.shapeP;
  const bow = g.bow;
  for (let y = c.y0; y <= c.y1; y++) {
    for (let x = c.x0, q = y * n + x; x <= c.x1; x++, q++) {
      const u = U[q], v = V[q];
      const t = u / mw, at = Math.abs(t);
      if (at > 1.05) continue;
      const t2 = t * t, base = Math.max(0, 1 - t2);
      // Opening profile: rounder when the jaw drops, flatter (rectangular) when stretched.
      const tp = at ** p;
      const f = Math.sqrt(Math.max(0, 1 - tp));
      const mid = my + g.cornerDY * t2 - bow * base;
      // AU10 lifts the upper lip most on either side of the centre (a snarl).
      const snarl = g.snarl * 0.02 * Math.max(0, 1 - (at - 0.45) * (at - 0.45) * 6);
      const yUi = mid - g.openU * f - snarl * f;
      const yLi = mid + g.openL * f;
      const cupid = 1 - 0.35 * Math.max(0, 1 - t2 * 60);
      const yUo = yUi - g.upperLip * Math.sqrt(base) * cupid - 0.003;
      const yLo = yLi + g.lowerLip * Math.sqrt(Math.sqrt(base)) + 0.002;
      const side = _clamp01((1 - at) * mw * s + 0.5);
      if (side <= 0) continue;
      const aOut = _clamp01((v - yUo) * s + 0.5) * _clamp01((yLo - v) * s + 0.5) * side;
      if (aOut <= 0) continue;
      const aIn = _clamp01((v - yUi) * s + 0.5) * _clamp01((yLi - v) * s + 0.5) * side;
      // Lips: redder skin, a highlight in the middle of each lip, soft outer border.
      const border = 0.75 + 0.25 * _clamp01(Math.min(v - yUo, yLo - v) * s * 0.7);
      const lipA = (aOut - aIn) * border;
      if (lipA > 0) {
        R[q] += (lr - R[q]) * lipA, G[q] += (lg - G[q]) * lipA, B[q] += (lb - B[q]) * lipA;
        // Lip volume: the upper lip a rounded ridge, the lower lip fuller (pout with AU17).
        const upper = v < yUi + pw * 0.5;
        const th = upper ? Math.max(1e-3, yUi - yUo) : Math.max(1e-3, yLo - yLi);
        const w = upper ? (v - yUo) / th : (v - yLi) / th;
        const k = Math.max(0, w * (1 - w)) * 4;
        H[q] += lipA * k * (upper ? 0.025 : 0.035 + 0.02 * a.au17) * base;
        S[q] = S[q] * (1 - lipA) + 1.3 * lipA;
      }
      if (aIn > 0) {
        // Mouth cavity, dark; teeth where the lips uncover them.
        let cr = 0.16, cg = 0.05, cb = 0.05;
        const tA = _clamp01((teethW - Math.abs(u)) * s + 0.5) * (1 - 0.45 * t2);
        const tooth = 0.85 + 0.15 * Math.abs(Math.cos(u * 90));
        const up = _clamp01((upperTeethBot - v) * s + 0.5) * tA;
        const lo = _clamp01((v - lowerTeethTop) * s + 0.5) * tA * 0.85;
        const gum = _clamp01((id.mouthV - 0.06 - v) * s + 0.5) * up;
        const tt = Math.max(up, lo) * tooth;
        cr += (0.9 - cr) * tt, cg += (0.87 - cg) * tt, cb += (0.8 - cb) * tt;
        cr += (0.75 - cr) * gum, cg += (0.38 - cg) * gum, cb += (0.38 - cb) * gum;
        // Shadow under the upper lip inside the mouth.
        const sh = 1 - 0.45 * _clamp01(1 - (v - yUi) / 0.03);
        cr *= sh, cg *= sh, cb *= sh;
        R[q] += (cr - R[q]) * aIn, G[q] += (cg - G[q]) * aIn, B[q] += (cb - B[q]) * aIn;
        H[q] -= aIn * (0.06 - 0.03 * tt);
        S[q] = S[q] * (1 - aIn) + 0.5 * tt * aIn;
      }
      // A thin dark line where closed lips meet.
      const line = _clamp01(1 - Math.abs(v - mid) * s * 1.2) * side * (1 - aIn) * 0.55;
      if (line > 0) {
        R[q] *= 1 - line, G[q] *= 1 - line, B[q] *= 1 - line;
      }
    }
  }
}

/** One eye: lids, sclera, iris, pupil, catchlight, lashes and the lid crease. */
function _eye(c: _Canvas, id: Identity, a: ActionUnits, cap: Capture, sg: number): void {
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
      const side = _clamp01((1 - at) * ew * s + 0.5);
      const aO = _clamp01((v - yU) * s + 0.5) * _clamp01((yL - v) * s + 0.5) * side;
      if (aO > 0) {
        const dx = u - ix, dy = v - iy;
        const d = Math.sqrt(dx * dx + dy * dy);
        const shadow = 1 - 0.5 * _clamp01(1 - (v - yU) / (0.4 * hu + 0.01));
        const sc = scl * (1 - 0.3 * t * t) * shadow;
        let r = sc, gg = sc * 0.97, b = sc * 0.95;
        const aI = _clamp01((ri - d) * s + 0.5);
        if (aI > 0) {
          const ring = 1 - 0.55 * (d / ri) ** 4;
          const fib = 0.85 + 0.3 * _noise1(Math.atan2(dy, dx) * 12);
          const k = ring * fib * shadow;
          const aP = _clamp01((rp - d) * s + 0.5);
          r += (irR * k * (1 - aP) + 0.02 * aP - r) * aI;
          gg += (irG * k * (1 - aP) + 0.02 * aP - gg) * aI;
          b += (irB * k * (1 - aP) + 0.02 * aP - b) * aI;
        }
        const gx = u - glx, gy = v - gly;
        const aG = _clamp01((ri * 0.2 - Math.sqrt(gx * gx + gy * gy)) * s + 0.5) * 0.9;
        if (aG > 0) r += (1 - r) * aG, gg += (1 - gg) * aG, b += (1 - b) * aG;
        R[q] += (r - R[q]) * aO, G[q] += (gg - G[q]) * aO, B[q] += (b - B[q]) * aO;
        H[q] -= 0.012 * aO;
        S[q] = S[q] * (1 - aO) + 2 * aO;
      }
      // Lashes along the upper lid (heavier at the outer end), a faint lower lid line.
      const lw = lash * (0.6 + 0.6 * Math.max(0, t)) * (at < 1 ? 1 : Math.max(0, 1 - (at - 1) * 8));
      const aL = _clamp01((v - (yU - lw)) * s + 0.5) * _clamp01((yU + 0.3 / s - v) * s + 0.5) *
        (lw * s < 1 ? Math.max(0.4, lw * s) : 1) * 0.9;
      if (aL > 0) {
        R[q] += (0.05 - R[q]) * aL, G[q] += (0.04 - G[q]) * aL, B[q] += (0.04 - B[q]) * aL;
        S[q] *= 1 - aL * 0.5;
      }
      const aLo = _clamp01(1 - Math.abs(v - yL - 0.004) * s) * side * 0.3;
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
function _brows(c: _Canvas, id: Identity, a: ActionUnits): void {
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

/** Glasses: two rims, a bridge, the arms towards the ears, and slightly tinted lenses. */
function _glasses(c: _Canvas, id: Identity): void {
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
function _occluder(c: _Canvas, id: Identity, cap: Capture): void {
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

/** Lambertian shading of the height field, ambient occlusion and a soft specular sheen. */
function _shade(c: _Canvas, cap: Capture): void {
  const { n, H, Hb, R, G, B, S, s, rgb } = c;
  // Ambient occlusion: how far each point lies below its neighbourhood (box-blurred heights).
  const rad = Math.max(1, Math.round(0.11 * s));
  const tmp = c.U; // U, V are no longer needed
  for (let y = 0; y < n; y++) {
    const row = y * n;
    let acc = 0;
    for (let x = -rad; x <= rad; x++) acc += H[row + Math.min(n - 1, Math.max(0, x))];
    for (let x = 0; x < n; x++) {
      tmp[row + x] = acc;
      acc += H[row + Math.min(n - 1, x + rad + 1)] - H[row + Math.max(0, x - rad)];
    }
  }
  const norm = 1 / ((2 * rad + 1) * (2 * rad + 1));
  for (let x = 0; x < n; x++) {
    let acc = 0;
    for (let y = -rad; y <= rad; y++) acc += tmp[Math.min(n - 1, Math.max(0, y)) * n + x];
    for (let y = 0; y < n; y++) {
      Hb[y * n + x] = acc * norm;
      acc += tmp[Math.min(n - 1, y + rad + 1) * n + x] - tmp[Math.max(0, y - rad) * n + x];
    }
  }
  const [lx, ly, lz] = cap.light;
  // Cast shadows (nose on the cheek, brows over the eyes, chin on the neck): march from each
  // pixel towards the light over the height field and keep the deepest blocker.
  const shadow = c.V;
  const lh = Math.hypot(lx, ly);
  if (lh > 0.12) {
    const stepPx = Math.max(1, 0.06 * s);
    const dx = (lx / lh) * stepPx, dy = (ly / lh) * stepPx, dz = ((lz / lh) * stepPx) / s;
    for (let y = 0; y < n; y++) {
      for (let x = 0; x < n; x++) {
        const p = y * n + x, h0 = H[p];
        let best = 0;
        if (h0 <= _BG_HEIGHT + 1e-3) {
          shadow[p] = 0;
          continue;
        }
        for (let k = 1; k <= 4; k++) {
          const fx = x + k * dx + 0.5, fy = y + k * dy + 0.5;
          if (fx < 0 || fy < 0 || fx >= n || fy >= n) break;
          const e = H[(fy | 0) * n + (fx | 0)] - h0 - k * dz;
          if (e > best) best = e;
        }
        shadow[p] = best >= 0.025 ? 1 : best * 40;
      }
    }
  } else shadow.fill(0);
  // Half vector for a viewer at +z.
  let hx = lx, hy = ly, hz = lz + 1;
  const hn = Math.hypot(hx, hy, hz);
  hx /= hn, hy /= hn, hz /= hn;
  const wrap = cap.wrap, wrapK = 1 / (1 + cap.wrap);
  const amb = cap.ambient, dif = cap.diffuse, spec = cap.specular, ao = cap.occlusion;
  const [cr, cg, cb] = cap.lightColor;
  const k = 0.5 * s;
  for (let y = 0; y < n; y++) {
    const ya = y > 0 ? -n : 0, yb = y < n - 1 ? n : 0;
    for (let x = 0; x < n; x++) {
      const p = y * n + x;
      const xa = x > 0 ? -1 : 0, xb = x < n - 1 ? 1 : 0;
      // The background is a flat wall: no normals from the step at the head's silhouette.
      const flat = H[p] <= _BG_HEIGHT + 1e-3;
      const gx = flat ? 0 : (H[p + xb] - H[p + xa]) * k,
        gy = flat ? 0 : (H[p + yb] - H[p + ya]) * k;
      const il = 1 / Math.sqrt(gx * gx + gy * gy + 1);
      const nx = -gx * il, ny = -gy * il, nz = il;
      let d = (nx * lx + ny * ly + nz * lz + wrap) * wrapK;
      d = d > 0 ? (flat ? d : d * (1 - 0.85 * shadow[p])) : 0;
      let e = nx * hx + ny * hy + nz * hz;
      e = e > 0 ? e : 0;
      e *= e, e *= e, e *= e, e *= e; // ^16
      // The background is far behind the head: no occlusion or shadow from it.
      const occ = flat ? 0 : Hb[p] - H[p];
      const a = occ > 0 ? Math.max(0.25, 1 - occ * ao) : 1;
      const l = (amb + dif * d) * a;
      const sp = spec * e * S[p] * a;
      rgb[p * 3] = R[p] * l * cr + sp;
      rgb[p * 3 + 1] = G[p] * l * cg + sp;
      rgb[p * 3 + 2] = B[p] * l * cb + sp;
    }
  }
}
