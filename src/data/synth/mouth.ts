/**
 * The mouth: lips, the mouth cavity and teeth; the action units move the corners, part the
 * lips and drop the jaw.
 *
 * @module
 */
import type { ActionUnits } from "./expressions.ts";
import type { Identity } from "./identity.ts";
import { type Canvas, clamp01 } from "./canvas.ts";
import type { Geometry } from "./geometry.ts";

/** Lips, mouth cavity, teeth; AUs move corners, part the lips and drop the jaw. */
export function paintMouth(c: Canvas, id: Identity, a: ActionUnits, g: Geometry): void {
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
      const side = clamp01((1 - at) * mw * s + 0.5);
      if (side <= 0) continue;
      const aOut = clamp01((v - yUo) * s + 0.5) * clamp01((yLo - v) * s + 0.5) * side;
      if (aOut <= 0) continue;
      const aIn = clamp01((v - yUi) * s + 0.5) * clamp01((yLi - v) * s + 0.5) * side;
      // Lips: redder skin, a highlight in the middle of each lip, soft outer border.
      const border = 0.75 + 0.25 * clamp01(Math.min(v - yUo, yLo - v) * s * 0.7);
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
        const tA = clamp01((teethW - Math.abs(u)) * s + 0.5) * (1 - 0.45 * t2);
        const tooth = 0.85 + 0.15 * Math.abs(Math.cos(u * 90));
        const up = clamp01((upperTeethBot - v) * s + 0.5) * tA;
        const lo = clamp01((v - lowerTeethTop) * s + 0.5) * tA * 0.85;
        const gum = clamp01((id.mouthV - 0.06 - v) * s + 0.5) * up;
        const tt = Math.max(up, lo) * tooth;
        cr += (0.9 - cr) * tt, cg += (0.87 - cg) * tt, cb += (0.8 - cb) * tt;
        cr += (0.75 - cr) * gum, cg += (0.38 - cg) * gum, cb += (0.38 - cb) * gum;
        // Shadow under the upper lip inside the mouth.
        const sh = 1 - 0.45 * clamp01(1 - (v - yUi) / 0.03);
        cr *= sh, cg *= sh, cb *= sh;
        R[q] += (cr - R[q]) * aIn, G[q] += (cg - G[q]) * aIn, B[q] += (cb - B[q]) * aIn;
        H[q] -= aIn * (0.06 - 0.03 * tt);
        S[q] = S[q] * (1 - aIn) + 0.5 * tt * aIn;
      }
      // A thin dark line where closed lips meet.
      const line = clamp01(1 - Math.abs(v - mid) * s * 1.2) * side * (1 - aIn) * 0.55;
      if (line > 0) {
        R[q] *= 1 - line, G[q] *= 1 - line, B[q] *= 1 - line;
      }
    }
  }
}
