import assert from "node:assert/strict";
import { type Affine, warpAffine } from "../../src/face/warp.ts";

/** Bilinear sample of channel `ch` at continuous pixel position (sx, sy), edges replicated. */
function sample(
  img: { width: number; height: number; data: Uint8Array },
  sx: number,
  sy: number,
  ch: number,
): number {
  const u = Math.min(img.width - 1, Math.max(0, sx - 0.5));
  const v = Math.min(img.height - 1, Math.max(0, sy - 0.5));
  const x0 = Math.floor(u), y0 = Math.floor(v);
  const x1 = Math.min(img.width - 1, x0 + 1), y1 = Math.min(img.height - 1, y0 + 1);
  const fx = u - x0, fy = v - y0;
  const at = (x: number, y: number) => img.data[(y * img.width + x) * 3 + ch];
  return at(x0, y0) * (1 - fx) * (1 - fy) + at(x1, y0) * fx * (1 - fy) +
    at(x0, y1) * (1 - fx) * fy + at(x1, y1) * fx * fy;
}

Deno.test("warpAffine() samples bilinearly through the map, edges replicated or a constant border", () => {
  const W = 13, H = 9;
  const data = new Uint8Array(W * H * 3).map((_, i) => (i * 37 + 11) % 256);
  const img = { width: W, height: H, data };
  // rotation + scale + shift (no shrink beyond 2x: one tap per pixel), partly outside the source
  const m: Affine = [0.9, 0.2, -1.5, -0.15, 1.1, 0.7];
  const dw = 15, dh = 11;
  const edge = warpAffine(img, m, dw, dh, { scale: 2 / 255, offset: -1 });
  const border: [number, number, number] = [10, 20, 30];
  const framed = warpAffine(img, m, dw, dh, { border });
  let outside = 0;
  for (let y = 0; y < dh; y++) {
    for (let x = 0; x < dw; x++) {
      const px = x + 0.5, py = y + 0.5;
      const sx = m[0] * px + m[1] * py + m[2], sy = m[3] * px + m[4] * py + m[5];
      const out = sx < 0 || sy < 0 || sx > W || sy > H;
      if (out) outside++;
      for (let c = 0; c < 3; c++) {
        const want = sample(img, sx, sy, c);
        const i = (y * dw + x) * 3 + c;
        assert.ok(Math.abs(edge[i] - (want * 2 / 255 - 1)) < 1e-5, `edge ${x},${y},${c}`);
        assert.ok(Math.abs(framed[i] - (out ? border[c] : want)) < 1e-3, `border ${x},${y},${c}`);
      }
    }
  }
  assert.ok(outside > 5 && outside < dw * dh / 2, `${outside} pixels outside`); // both cases met
});

Deno.test("warpAffine() averages k x k taps when it shrinks by more than 2x", () => {
  // a 12 x 12 checkerboard of 1-pixel squares shrunk 6x: k = 3 taps per axis, each tap a
  // bilinear sample at a half-pixel phase, so every output pixel is the board's mean colour
  const W = 12;
  const data = new Uint8Array(W * W * 3).map((_, i) =>
    ((Math.floor(i / 3) % W + Math.floor(i / 3 / W)) % 2) * 200
  );
  const out = warpAffine({ width: W, height: W, data }, [6, 0, 0, 0, 6, 0], 2, 2);
  for (const v of out) assert.ok(Math.abs(v - 100) < 1e-3, `${v}`);
  // one tap per pixel (taps: 1) at 5x lands on pixel centres (u = 5 * 0.5 - 0.5 = 2): black or
  // white squares, not their mean
  const one = warpAffine({ width: W, height: W, data }, [5, 0, 0, 0, 5, 0], 2, 2, { taps: 1 });
  for (const v of one) assert.ok(v === 0 || v === 200, `${one}`);
});
