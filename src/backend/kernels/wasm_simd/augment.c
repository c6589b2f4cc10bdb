/*
 * The augmentations' 3x3 blur for byel's WASM backend (src/data/augment.ts, _blur3): per image,
 * out = x c + (up + down + left + right) e + (the four corners) k, reflect-padded, with the
 * per-image weights c, e, k. tfjs's composition (mirrorPad, eight slices, addN, three products)
 * spends most of its time in Slice's scalar index loop; this is one pass with the same float32
 * operations in the same order (addN sums from zero, input by input), so the same bits.
 *
 * Build: build.sh.
 */
#include "common.h"

/* Reflect padding by one: -1 -> 1, n -> n - 2. */
static inline int refl(int i, int n) { return i < 0 ? -i : (i >= n ? 2 * n - 2 - i : i); }

/* One output value at float index q of image row y, column x, channel ch (scalar path). */
static inline float blur_at(const float *img, int H, int W, int y, int x, int ch, float c,
                            float e, float k) {
  const int rs = W * 3;
  const int yu = refl(y - 1, H), yd = refl(y + 1, H), xl = refl(x - 1, W), xr = refl(x + 1, W);
#define P(yy, xx) img[(yy) * rs + (xx) * 3 + ch]
  const float edges = (((0.0f + P(yu, x)) + P(yd, x)) + P(y, xl)) + P(y, xr);
  const float corners = (((0.0f + P(yu, xl)) + P(yu, xr)) + P(yd, xl)) + P(yd, xr);
  return ((0.0f + P(y, x) * c) + edges * e) + corners * k;
#undef P
}

/*
 * x, out: [B, H, W, 3]; wc, we, wk: [B] per-image weights. H, W >= 2. Interior pixels run four
 * floats at a time along a row (neighbours 3 floats left and right, one row up and down).
 */
EXPORT("blur3")
void blur3(const float *x, int B, int H, int W, const float *wc, const float *we,
           const float *wk, float *out) {
  const int rs = W * 3;
  const V z = wasm_f32x4_splat(0.0f);
  for (int b = 0; b < B; b++) {
    const float *img = x + (long)b * H * rs;
    float *o = out + (long)b * H * rs;
    const float c = wc[b], e = we[b], k = wk[b];
    const V vc = wasm_f32x4_splat(c), ve = wasm_f32x4_splat(e), vk = wasm_f32x4_splat(k);
    for (int y = 0; y < H; y++) {
      const int interior_row = y > 0 && y < H - 1;
      /* floats [3, rs - 3) of an interior row have all eight neighbours inside the image */
      int q = 0;
      if (interior_row) {
        for (; q < 3; q++) o[y * rs + q] = blur_at(img, H, W, y, q / 3, q % 3, c, e, k);
        const float *r = img + (long)y * rs;
        for (; q + 4 <= rs - 3; q += 4) {
          const V up = LD(r - rs + q), dn = LD(r + rs + q), lf = LD(r + q - 3), rt = LD(r + q + 3);
          const V ul = LD(r - rs + q - 3), ur = LD(r - rs + q + 3);
          const V dl = LD(r + rs + q - 3), dr = LD(r + rs + q + 3);
          const V edges = ADD(ADD(ADD(ADD(z, up), dn), lf), rt);
          const V corners = ADD(ADD(ADD(ADD(z, ul), ur), dl), dr);
          ST(o + (long)y * rs + q, ADD(ADD(ADD(z, MUL(LD(r + q), vc)), MUL(edges, ve)), MUL(corners, vk)));
        }
      }
      for (; q < rs; q++) o[y * rs + q] = blur_at(img, H, W, y, q / 3, q % 3, c, e, k);
    }
  }
}
