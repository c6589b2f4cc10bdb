/**
 * Lighting: Lambertian shading of the height field with wrap-around, cast shadows marched
 * towards the light, ambient occlusion from the blurred heights and a soft specular sheen.
 *
 * @module
 */
import type { Capture } from "./capture.ts";
import { BG_HEIGHT, type Canvas } from "./canvas.ts";

/** Lambertian shading of the height field, ambient occlusion and a soft specular sheen. */
export function shade(c: Canvas, cap: Capture): void {
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
        if (h0 <= BG_HEIGHT + 1e-3) {
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
      const flat = H[p] <= BG_HEIGHT + 1e-3;
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
