/**
 * The head: the background wall, hair behind and in front of the face, the neck, the ears and
 * the face ellipsoid with its skin albedo (blotches, pores, cheek redness), and facial hair.
 *
 * @module
 */
import { hashStep } from "../../rng.ts";
import type { ActionUnits } from "./expressions.ts";
import type { Identity } from "./identity.ts";
import type { Capture } from "./capture.ts";
import { BG_HEIGHT, type Canvas, clamp01, DEPTH, noise1 } from "./canvas.ts";
import type { Geometry } from "./geometry.ts";

/** Background, hair, neck and the face ellipsoid with its skin albedo. */
export function paintHead(
  c: Canvas,
  id: Identity,
  a: ActionUnits,
  g: Geometry,
  cap: Capture,
): void {
  const { n, U, V, H, R, G, B, S, s, blotch } = c;
  // Per-person skin blotches: a 9x9 value-noise grid over the face (face units -1.2..1.2).
  let h = id.textureSeed | 0;
  for (let i = 0; i < 81; i++) {
    h = hashStep(h);
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
      const af0 = r2 < 1.3 ? clamp01((1 - Math.sqrt(r2)) * wu * s * 0.9 + 0.5) : 0;
      let r = 0, gg = 0, b = 0, hh = 0, sp = 0;
      if (af0 < 1) {
        // Only what shows around the face is computed: most pixels are skin.
        // Background: a gradient with soft blotches (out-of-focus scenery).
        const gx = (x * bs - 0.5) * ca + (y * bs - 0.5) * sa + 0.5;
        const bn = 1 +
          bgN * (noise1(x * bs * 5 + y * bs * 3.1) + noise1(y * bs * 4.3 - x * bs * 2) - 1);
        r = (b0r + (b1r - b0r) * gx) * bn,
          gg = (b0g + (b1g - b0g) * gx) * bn,
          b = (b0b + (b1b - b0b) * gx) * bn;
        hh = BG_HEIGHT; // the background lies behind everything
        // Neck (behind the face, in its shadow).
        if (v > 0.45) {
          const rn = Math.abs(u) / neckW;
          const an = clamp01((1 - rn) * neckW * s + 0.5);
          if (an > 0) {
            const k = 0.45 + 0.25 * clamp01((v - chin) * 3);
            r += (sr * k - r) * an, gg += (sg * k - gg) * an, b += (sb * k - b) * an;
            // The neck lies behind the jaw line (never in front of the chin's edge).
            hh += (DEPTH * 0.4 * Math.sqrt(Math.max(0, 1 - rn * rn)) - 0.45 - hh) * an;
            sp = an * 0.5;
          }
        }
        // Ears, half hidden behind the face's edge.
        const eu = (Math.abs(u) - earU) / 0.085, ev = (v - 0.17) / 0.19;
        const er2 = eu * eu + ev * ev;
        if (er2 < 1.3) {
          const ae = clamp01((1 - Math.sqrt(er2)) * 0.085 * s + 0.5);
          if (ae > 0) {
            const rim = 1 - 0.25 * clamp01(1 - er2 * 2.5); // the ear's hollow is darker
            r += (sr * 0.92 * rim - r) * ae,
              gg += (sg * 0.82 * rim - gg) * ae,
              b += (sb * 0.82 * rim - b) * ae;
            // Ears and the hair beside the face lie behind the cheek's silhouette.
            hh += (DEPTH * 0.25 * Math.max(0, 1 - er2) - 0.12 - hh) * ae;
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
            const ah = clamp01((1 - Math.sqrt(rh2)) * hairW * s * 0.8 + 0.5);
            if (ah > 0) {
              const st = 0.62 + 0.3 * noise1(u * 70 + v * 6 + 13 * noise1(v * 3 + u)) +
                0.3 * noise1(u * 9 + v * 2 + 50);
              r += (hr * st - r) * ah, gg += (hg * st - gg) * ah, b += (hb * st - b) * ah;
              const hz = Math.min(-0.03, DEPTH * 0.8 * Math.sqrt(Math.max(0, 1 - rh2)) - 0.3);
              hh += (hz - hh) * ah;
              sp += (0.3 - sp) * ah;
            }
          }
        }
      }
      if (r2 < 1.3) {
        const rn = Math.sqrt(r2);
        const af = clamp01((1 - rn) * wu * s * 0.9 + 0.5);
        if (af > 0) {
          // Albedo: skin with blotches, redder cheeks, a little darker around the eyes.
          const bu = (u + 1.2) * 3.33, bv = (v + 1.2) * 3.33;
          const iu = bu < 0 ? 0 : bu > 7.99 ? 7.99 : bu, iv = bv < 0 ? 0 : bv > 7.99 ? 7.99 : bv;
          const ju = iu | 0, jv = iv | 0, fu = iu - ju, fv = iv - jv, q = jv * 9 + ju;
          const nb = (blotch[q] * (1 - fu) + blotch[q + 1] * fu) * (1 - fv) +
            (blotch[q + 9] * (1 - fu) + blotch[q + 10] * fu) * fv;
          ph = hashStep(ph);
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
          const hf = DEPTH * Math.sqrt(Math.max(0, 1 - r2)) + pore * 0.02;
          hh += (Math.max(hf, hh) - hh) * af;
          sp += (1 - sp) * af;
          // Hair in front of the forehead: above the hairline, or a fringe.
          if (!bald) {
            const au = Math.abs(u) / W;
            let hl = hairline + 0.5 * au * au * au + 0.04 * (noise1(u * 30 + id.id) - 0.5);
            if (fringe < 0 && au < 0.8) hl = Math.max(hl, fringe + 0.04 * Math.sin(u * 20));
            const ah = clamp01((hl - v) * s + 0.5);
            if (ah > 0) {
              const st = 0.62 + 0.3 * noise1(u * 70 + v * 6 + 13 * noise1(v * 3 + u)) +
                0.3 * noise1(u * 9 + v * 2 + 50);
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
export function paintBeard(c: Canvas, id: Identity, g: Geometry): void {
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
        m = clamp01((v - top) / 0.03) * clamp01((bot - v) / 0.012) *
          clamp01((g.mouthW + 0.05 - au) / 0.05);
      }
      if (id.beard !== 2 && v > g.mouthY + 0.05) {
        // chin and jaw: everything below the lower lip, fading up the cheeks
        const jaw = clamp01((v - (0.25 + 0.4 * (1 - au / id.faceW))) * 6);
        m = Math.max(m, jaw);
      } else if (id.beard !== 2 && au > g.mouthW + 0.05 && v > id.noseV) {
        m = Math.max(m, clamp01((au - g.mouthW - 0.05) * 8) * clamp01((v - id.noseV) * 6));
      }
      if (m <= 0) continue;
      const k = m * dens * (0.55 + 0.45 * noise1(u * 160 + v * 37 + noise1(v * 140) * 9));
      R[p] += (hr - R[p]) * k, G[p] += (hg - G[p]) * k, B[p] += (hb - B[p]) * k;
      S[p] *= 1 - 0.6 * k;
      if (id.beard === 3) H[p] += 0.03 * m;
    }
  }
}
